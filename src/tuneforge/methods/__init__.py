"""Which parameters a run trains. Each method is one function `apply(model, cfg) -> model` in METHODS."""

from __future__ import annotations

from collections.abc import Callable

import torch

from tuneforge.config import MethodConfig
from tuneforge.methods.freeze import apply_freeze

__all__ = ["METHODS", "apply_method", "count_parameters"]


def _apply_full(model: torch.nn.Module, cfg: MethodConfig) -> torch.nn.Module:
    return model


METHODS: dict[str, Callable[[torch.nn.Module, MethodConfig], torch.nn.Module]] = {
    "full": _apply_full,
    "freeze": apply_freeze,
}


def apply_method(model: torch.nn.Module, cfg: MethodConfig) -> torch.nn.Module:
    return METHODS[cfg.name](model, cfg)


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
