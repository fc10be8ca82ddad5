"""BitFit (Ben Zaken et al. 2022): train only the bias terms and the head; about 0.1% of a BERT's weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuneforge.methods.base import train_only
from tuneforge.methods.blocks import BitFitMethod

if TYPE_CHECKING:
    import torch

__all__ = ["apply_bitfit"]


def apply_bitfit(model: torch.nn.Module, cfg: BitFitMethod) -> torch.nn.Module:
    """Every `*.bias` (attention, feed-forward and layer norms) plus the head; nothing else changes."""
    return train_only(model, lambda name: name.endswith(".bias"))
