"""Whether a method's trained weights fold into a plain model, and folding them (PEFT's merge_and_unload)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuneforge.errors import RunError
from tuneforge.methods import METHODS

if TYPE_CHECKING:
    import torch

__all__ = ["check_mergeable", "fold_weights"]


def check_mergeable(method: str) -> None:
    """RunError when `method` adds computation that a plain model cannot express (virtual tokens, adapters)."""
    reason = METHODS[method].cannot_merge
    if reason:
        raise RunError(
            f"method '{method}' cannot be merged into a plain model: {reason}. "
            "Use the run directory itself (tuneforge predict, TextClassifier.load), which loads base + adapter"
        )


def fold_weights(model: torch.nn.Module, method: str) -> torch.nn.Module:
    """`model` with LoRA/AdaLoRA/IA3 weights folded into the base layers (PEFT's merge_and_unload); other
    mergeable methods (full, bitfit, freeze) already are plain models."""
    check_mergeable(method)
    return model.merge_and_unload() if hasattr(model, "merge_and_unload") else model
