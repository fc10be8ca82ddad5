"""Save only what a run trained, and load it back onto its base model.

A run directory holds either
- `model/`: a plain Hugging Face model directory (method `full`), or
- `adapter/`: the trained weights alone, for every other method. PEFT methods (lora, adalora, ia3, prefix,
  prompt, ptuning) use PEFT's format, `adapter_config.json` + `adapter_model.safetensors`, loadable with
  `peft.PeftModel.from_pretrained(base, "adapter")`; the others (freeze, bitfit, adapter) write the trained
  tensors to `adapter_model.safetensors` and are rebuilt from the method block in the manifest.
Both hold the tokenizer and always include the task head. The manifest names the method, its block, the base
model and the size on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from pydantic import TypeAdapter
from safetensors import SafetensorError

from tuneforge.config import MethodConfig
from tuneforge.errors import RunError, TuneforgeError
from tuneforge.methods import apply_method
from tuneforge.methods.peft_methods import load_peft
from tuneforge.models import resolve_model
from tuneforge.training.checkpoint import load_weights, save_weights

__all__ = ["load_model", "save_model", "saved_dir", "saved_entries"]

_WEIGHTS = "adapter_model.safetensors"


def save_model(
    model: torch.nn.Module, tokenizer: Any, run_dir: Path, method: MethodConfig, base_model: str
) -> dict[str, Any]:
    """Write the trained weights and tokenizer into `run_dir`; return the manifest entries that describe them."""
    folder = run_dir / ("model" if method.name == "full" else "adapter")
    if method.name == "full" or hasattr(model, "peft_config"):
        model.save_pretrained(folder)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        save_weights(model, folder / _WEIGHTS)
    tokenizer.save_pretrained(folder)
    return saved_entries(folder, method, base_model)


def saved_entries(folder: Path, method: MethodConfig, base_model: str) -> dict[str, Any]:
    """The manifest entries of a run whose trained state is in `folder`: method, base model, size on disk."""
    files = [f for f in folder.iterdir() if f.is_file()]
    return {
        "method": method.name,
        "method_config": method.model_dump(mode="json"),
        "base_model": base_model,
        "saved_dir": folder.name,
        "saved_weights_bytes": sum(f.stat().st_size for f in files if f.suffix == ".safetensors"),
        "saved_bytes": sum(f.stat().st_size for f in files),
    }


def saved_dir(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """The folder with the weights and tokenizer: `model/` or `adapter/`."""
    return run_dir / manifest.get("saved_dir", "model")


def load_model(run_dir: Path, manifest: dict[str, Any], build: Callable[[str], torch.nn.Module]) -> torch.nn.Module:
    """The trained model of a run, in eval mode; `build(path)` makes the task's model from a pretrained dir.

    A damaged weights file raises RunError naming it (`build` does so for model/, via models.load_pretrained).
    """
    folder = saved_dir(run_dir, manifest)
    if folder.name == "model":
        return build(str(folder)).eval()
    try:
        base = build(resolve_model(manifest["base_model"]))
    except (TuneforgeError, OSError) as exc:
        raise RunError(
            f"{run_dir} holds an adapter for base model '{manifest['base_model']}', which cannot be loaded here: {exc}"
        ) from None
    try:
        if (folder / "adapter_config.json").is_file():
            return load_peft(base, str(folder)).eval()
        method = TypeAdapter(MethodConfig).validate_python(manifest["method_config"])
        model = apply_method(base, method)
        load_weights(model, folder / _WEIGHTS)
    except (SafetensorError, RunError) as exc:
        detail = str(exc) if isinstance(exc, RunError) else f"{folder / _WEIGHTS} is damaged or cut short ({exc})"
        raise RunError(f"{detail}; copy the run folder {run_dir} again or retrain it") from None
    return model.eval()
