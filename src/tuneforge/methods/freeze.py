"""Freeze the embeddings and the lower encoder layers (or the whole encoder): cheap, robust on small data."""

from __future__ import annotations

import re

import torch

from tuneforge.config import MethodConfig
from tuneforge.errors import ConfigError

__all__ = ["apply_freeze"]

_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def apply_freeze(model: torch.nn.Module, cfg: MethodConfig) -> torch.nn.Module:
    """`freeze_layers: k` freezes embeddings and layers 0..k-1; `null` freezes the whole pretrained body."""
    body = getattr(model, "base_model", None)
    if body is None or body is model:
        raise ConfigError("method.name 'freeze': the model has no separate pretrained body and head")
    for name, param in body.named_parameters():
        match = _LAYER.search(f".{name}")
        if cfg.freeze_layers is None or "embeddings" in name or (match and int(match.group(1)) < cfg.freeze_layers):
            param.requires_grad_(False)
    return model
