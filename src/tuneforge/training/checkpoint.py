"""Checkpoints that survive kill -9: written to a temporary folder, then swapped in by rename."""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from tuneforge.errors import RunError

__all__ = [
    "TrainerState",
    "capture_rng",
    "find_checkpoint",
    "load_checkpoint",
    "load_weights",
    "save_checkpoint",
    "save_weights",
]


@dataclass
class TrainerState:
    """Where training stands; together with weights, optimiser, scheduler and RNG it makes resume exact."""

    step: int = 0  # optimiser steps done
    epoch: int = 0
    batches_done: int = 0  # batches of `epoch` already consumed
    best_metric: float | None = None
    best_step: int | None = None
    evals_without_improvement: int = 0
    train_tokens: int = 0  # real (non-padding) tokens seen
    train_seconds: float = 0.0
    losses_since_eval: list[float] = field(default_factory=list)  # averaged into the next record's train_loss
    history: list[dict[str, Any]] = field(default_factory=list)


def capture_rng() -> dict[str, Any]:
    """RNG of python, numpy and torch at this instant; dropout masks after resume depend on it.

    Plain types and tensors only, so that `torch.load(..., weights_only=True)` reads them back: numpy's state
    array becomes an int64 tensor (its words are uint32, which the safe unpickler cannot rebuild as numpy).
    """
    version, words, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {
        "python": {"version": version, "words": list(words), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }


def _restore_rng(states: dict[str, Any]) -> None:
    py, npy = states["python"], states["numpy"]
    random.setstate((py["version"], tuple(py["words"]), py["gauss"]))
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state((npy["kind"], keys, npy["pos"], npy["has_gauss"], npy["cached"]))
    torch.set_rng_state(states["torch"])


def _frozen(model: torch.nn.Module) -> set[str]:
    return {name for name, p in model.named_parameters(remove_duplicate=False) if not p.requires_grad}


def _state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    # Trained weights and buffers only: frozen weights are rebuilt from the pretrained model on resume, which
    # keeps LoRA checkpoints at a few MB. Contiguous clones because safetensors refuses shared storage.
    frozen = _frozen(model)
    return {k: v.detach().contiguous().clone() for k, v in model.state_dict().items() if k not in frozen}


def save_weights(model: torch.nn.Module, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    save_file(_state_dict(model), str(tmp))
    os.replace(tmp, path)


def load_weights(model: torch.nn.Module, path: Path) -> None:
    """Load what `save_weights` wrote; every weight that is trained must be in the file."""
    missing, unexpected = model.load_state_dict(load_file(str(path)), strict=False)
    trained_missing = set(missing) - _frozen(model)
    if unexpected or trained_missing:
        raise RuntimeError(f"{path} does not fit the model: missing {sorted(trained_missing)}, extra {unexpected}")


def save_checkpoint(
    folder: Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: TrainerState,
    rng: dict[str, Any],
) -> None:
    """Write everything a resume needs to `folder`, atomically: a crash mid-write leaves the old checkpoint."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(_state_dict(model), str(tmp / "model.safetensors"))
    torch.save(
        {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng}, tmp / "train.pt"
    )
    (tmp / "state.json").write_text(json.dumps(asdict(state), indent=1))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)


def find_checkpoint(folder: Path) -> Path | None:
    """The newest complete checkpoint: `folder`, or its `.old` copy if a crash hit between the two renames."""
    for candidate in (folder, folder.with_name(folder.name + ".old")):
        if (candidate / "state.json").is_file():
            return candidate
    return None


def _load_train_state(path: Path) -> dict[str, Any]:
    # weights_only=True: a planted pickle in a run folder must not run code on --resume (tensors and plain
    # types only; checkpoints of tuneforge before this change pickled numpy's RNG state and are refused).
    try:
        return torch.load(path, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        raise RunError(
            f"{path} holds more than tensors and plain types, so it was not loaded: it comes from an older "
            f"tuneforge or was changed by someone else. Retrain without --resume, or delete {path.parent.parent} "
            f"to start over ({type(error).__name__})"
        ) from None


def load_checkpoint(
    folder: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> TrainerState:
    extra = _load_train_state(folder / "train.pt")
    load_weights(model, folder / "model.safetensors")
    optimizer.load_state_dict(extra["optimizer"])
    scheduler.load_state_dict(extra["scheduler"])
    _restore_rng(extra["rng"])
    return TrainerState(**json.loads((folder / "state.json").read_text()))
