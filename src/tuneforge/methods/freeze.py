"""Freeze the embeddings and the lower encoder layers (or the whole encoder): cheap, robust on small data."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tuneforge.methods.base import head_modules
from tuneforge.methods.blocks import FreezeMethod

if TYPE_CHECKING:
    import torch

__all__ = ["apply_freeze"]

_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def apply_freeze(model: torch.nn.Module, cfg: FreezeMethod) -> torch.nn.Module:
    """`freeze_layers: k` freezes embeddings and layers 0..k-1; `null` freezes the whole pretrained body."""
    head_modules(model)  # raises a clear error for models without a separate body
    for name, param in model.base_model.named_parameters():
        match = _LAYER.search(f".{name}")
        if cfg.freeze_layers is None or "embeddings" in name or (match and int(match.group(1)) < cfg.freeze_layers):
            param.requires_grad_(False)
    return model
