"""What a method is, and the helpers methods share: which modules form the head, which parameters train."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneforge.errors import ConfigError

if TYPE_CHECKING:
    import torch

__all__ = ["ADDED_MODULES", "Method", "StepHook", "added_modules", "head_modules", "train_only"]

StepHook = Callable[[int, int], None]
"""Called after each optimiser step, before gradients are cleared, with (step index, total steps)."""


@dataclass(frozen=True)
class Method:
    """One entry of METHODS: a weight-adapting method, applied to a model the shared loop then trains, or (with
    `apply` None) a method that fits its model itself (zero-/few-shot; the task that offers it holds its code).

    `apply(model, cfg)` marks (or adds) what is trained and returns the model to train; `cannot_merge` says why
    `tuneforge export --merge` cannot fold the trained weights into a plain model (None: it can); `virtual_tokens`
    methods extend each input's attention mask, which packed rows (their own block mask) do not allow;
    `step_hook(model, cfg)`, where given, returns what the training loop calls after every optimiser step
    (AdaLoRA's rank reallocation).
    """

    apply: Callable[[torch.nn.Module, Any], torch.nn.Module] | None
    cannot_merge: str | None = None
    virtual_tokens: bool = False  # prepends learned tokens to every input: no packing
    step_hook: Callable[[torch.nn.Module, Any], StepHook] | None = None
    trains: bool = True  # False: fits without gradient steps (zero-shot), so train.* loop options do not apply

    @property
    def fits_itself(self) -> bool:
        """True for zero-/few-shot methods: no gradient training of the task's model by the loop."""
        return self.apply is None


ADDED_MODULES = "tuneforge_added_modules"
"""Attribute a task sets on a model it built: {qualified name of a leaf module it added to (or reset in) the
pretrained body: whether parameter-efficient methods train it}, e.g. text classification's mean-pooling layer
(kept as built) and reset pooler (trained). No method adapts them; PEFT methods save them whole (`modules_to_save`)
so that the adapter holds what the stock checkpoint lacks."""


def added_modules(model: torch.nn.Module) -> dict[str, bool]:
    return dict(getattr(model, ADDED_MODULES, {}))


def head_modules(model: torch.nn.Module) -> list[str]:
    """Names of the model's own children outside its pretrained body: the freshly initialised task head.

    BERT: ['classifier']; DistilBERT: ['pre_classifier', 'classifier']; LLaMA: ['score']. The head must always
    train, whatever the method, since it starts from random weights.
    """
    body = getattr(model, "base_model", None)
    if body is None or body is model:
        raise ConfigError(f"{type(model).__name__} has no separate pretrained body and head")
    # A language model's lm_head is pretrained (and often tied to the input embeddings): no fresh head.
    output_embeddings = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    return [
        name
        for name, child in model.named_children()
        if child is not body and child is not output_embeddings and _has_parameters(child)
    ]


def _has_parameters(module: torch.nn.Module) -> bool:
    return next(module.parameters(), None) is not None


def train_only(model: torch.nn.Module, keep: Callable[[str], bool]) -> torch.nn.Module:
    """Freeze every parameter except the head's and those whose name `keep` accepts."""
    head = tuple(f"{name}." for name in head_modules(model))
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith(head) or keep(name))
    return model
