"""Checkpoints that survive kill -9: written to a temporary folder, then swapped in by rename."""

from __future__ import annotations

import errno
import json
import os
import pickle
import random
import shutil
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
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


_SPACE_LEFT = 2**20  # below this many free bytes, a failed write is taken to be a full disk


def _disk_full(error: BaseException, folder: Path) -> bool:
    # OSError carries errno; safetensors (Rust) and torch.save put the cause only in their text, torch.save not
    # even that ("file write failed"), so then the free space decides.
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    text = str(error)
    if any(mark in text for mark in ("No space left on device", "StorageFull", "os error 28")):
        return True
    try:
        return "write failed" in text and shutil.disk_usage(folder).free < _SPACE_LEFT
    except OSError:
        return False


def _disk_full_error(path: Path) -> RunError:
    return RunError(f"disk full while writing {path}: free space and run with --resume")


def save_weights(model: torch.nn.Module, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        save_file(_state_dict(model), str(tmp))
    except (OSError, RuntimeError, SafetensorError) as error:
        tmp.unlink(missing_ok=True)
        if _disk_full(error, path.parent):
            raise _disk_full_error(path) from None
        raise
    os.replace(tmp, path)


class _DamagedFile(RunError):
    """A checkpoint or weights file that exists but cannot be parsed: cut short, emptied or overwritten."""


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except SafetensorError as error:
        raise _DamagedFile(f"{path} is damaged or cut short ({error})") from None


def _apply_weights(model: torch.nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    trained_missing = set(missing) - _frozen(model)
    if unexpected or trained_missing:
        raise RuntimeError(f"{path} does not fit the model: missing {sorted(trained_missing)}, extra {unexpected}")


def load_weights(model: torch.nn.Module, path: Path) -> None:
    """Load what `save_weights` wrote; every weight that is trained must be in the file.

    A damaged file raises RunError naming it; the caller's message says what to do.
    """
    _apply_weights(model, _read_weights(path), path)


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
    try:
        tmp.mkdir(parents=True)
        save_file(_state_dict(model), str(tmp / "model.safetensors"))
        torch.save(
            {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng}, tmp / "train.pt"
        )
        (tmp / "state.json").write_text(json.dumps(asdict(state), indent=1))
    except (OSError, RuntimeError, SafetensorError) as error:
        shutil.rmtree(tmp, ignore_errors=True)  # frees what it took; `folder` still holds the previous checkpoint
        if _disk_full(error, folder.parent):
            raise _disk_full_error(folder) from None
        raise
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
        if isinstance(error, EOFError) or _cut_short(path):
            raise _DamagedFile(f"{path} is damaged or cut short ({type(error).__name__})") from None
        raise RunError(
            f"{path} holds more than tensors and plain types, so it was not loaded: it comes from an older "
            f"tuneforge or was changed by someone else. Retrain without --resume, or delete {path.parent.parent} "
            f"to start over ({type(error).__name__})"
        ) from None
    except OSError as error:  # a cut-short archive can also fail as "Invalid argument"
        raise _DamagedFile(f"{path} is damaged or cut short ({error.strerror or error})") from None


def _cut_short(path: Path) -> bool:
    # torch.save writes a zip archive (starts "PK"); one without its central directory, at the end, was cut short.
    # Anything else (a bare pickle) is a file tuneforge did not write, refused above as such.
    with path.open("rb") as file:
        return file.read(2) == b"PK" and not zipfile.is_zipfile(path)


def _read_state(path: Path) -> TrainerState:
    try:
        return TrainerState(**json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as error:
        raise _DamagedFile(f"{path} is damaged or empty ({type(error).__name__}: {error})") from None


def _read_checkpoint(folder: Path) -> tuple[TrainerState, dict[str, Any], dict[str, torch.Tensor]]:
    # Every file is read before anything is applied, so a damaged one leaves model and optimiser untouched.
    return (
        _read_state(folder / "state.json"),
        _load_train_state(folder / "train.pt"),
        _read_weights(folder / "model.safetensors"),
    )


def load_checkpoint(
    folder: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> TrainerState:
    """Restore what `save_checkpoint` wrote; a damaged checkpoint falls back to its `.old` copy where one exists.

    Raises RunError naming the damaged file when no complete checkpoint is left.
    """
    previous = folder.with_name(folder.name + ".old")
    candidates = [folder] + ([previous] if previous != folder and (previous / "state.json").is_file() else [])
    damage: list[str] = []
    for candidate in candidates:
        try:
            state, extra, tensors = _read_checkpoint(candidate)
        except _DamagedFile as error:
            damage.append(str(error))
            continue
        _apply_weights(model, tensors, candidate / "model.safetensors")
        optimizer.load_state_dict(extra["optimizer"])
        scheduler.load_state_dict(extra["scheduler"])
        _restore_rng(extra["rng"])
        return state
    raise RunError(
        f"cannot resume: {'; '.join(damage)}. Train without --resume to start over (or restore the file from a backup)"
    )
