"""`tuneforge export RUN_DIR --merge`: fold the trained weights into a plain Hugging Face model directory."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

from tuneforge.errors import RunError
from tuneforge.methods import METHODS
from tuneforge.rundir import finalize

__all__ = ["merge_model"]


def merge_model(model: torch.nn.Module, tokenizer: Any, method: str, output: Path) -> Path:
    """Write `model` (a loaded run) as a plain model dir at `output`, with LoRA/AdaLoRA/IA3 folded into the weights.

    The result loads with `AutoModelForSequenceClassification.from_pretrained(output)` and needs neither PEFT nor
    tuneforge. Methods that add computation a plain model cannot express raise RunError.
    """
    reason = METHODS[method].cannot_merge
    if reason:
        raise RunError(
            f"method '{method}' cannot be merged into a plain model: {reason}. "
            "Use the run directory itself (tuneforge predict, TextClassifier.load), which loads base + adapter"
        )
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    staging = output.with_name(output.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    finalize(staging, output)
    return output
