"""Which parameters a run trains, and how: the method table. Each method is one `Method` entry in METHODS (see
methods/base.py): the weight-adapting methods, and the zero-/few-shot methods that fit their model themselves.

from tuneforge.methods.blocks import LoraMethod
>>> model = apply_method(model, LoraMethod(name="lora", r=8))  # doctest: +SKIP
>>> count_parameters(model)  # doctest: +SKIP
(367117, 23080078)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuneforge.methods.base import Method, StepHook
from tuneforge.methods.bitfit import apply_bitfit
from tuneforge.methods.freeze import apply_freeze
from tuneforge.methods.peft_methods import (
    adalora_step_hook,
    apply_adalora,
    apply_ia3,
    apply_lora,
    apply_prefix,
    apply_prompt,
    apply_ptuning,
)

if TYPE_CHECKING:
    import torch

    from tuneforge.frozen import Frozen

__all__ = ["METHODS", "Method", "apply_method", "count_parameters", "step_hook"]


def _apply_full(model: torch.nn.Module, cfg: Frozen) -> torch.nn.Module:
    return model


_VIRTUAL_TOKENS = "it adds learned virtual tokens to every input, which a plain model has no place for"
_EMBEDDINGS = "it compares sentence embeddings with label vectors, which a sequence classifier cannot express"
_LLM_SCORED = "it scores label answers with a causal LM, which is no sequence classifier"
_MEAN_POOLED = "its head reads mean-pooled sentence embeddings, which a sequence classifier does not compute"


def _apply_adapter(model: torch.nn.Module, cfg: Frozen) -> torch.nn.Module:
    from tuneforge.methods.adapter import apply_adapter  # its layers subclass torch.nn.Module: torch loads here

    return apply_adapter(model, cfg)  # type: ignore[arg-type]


# Reading the table (the config rules do, before any work) imports no torch: the methods import it when applied.
METHODS: dict[str, Method] = {
    "full": Method(_apply_full),
    "freeze": Method(apply_freeze),
    "bitfit": Method(apply_bitfit),
    "lora": Method(apply_lora),
    "adalora": Method(apply_adalora, step_hook=adalora_step_hook),
    "ia3": Method(apply_ia3),
    "prefix": Method(apply_prefix, cannot_merge=_VIRTUAL_TOKENS, virtual_tokens=True),
    "prompt": Method(apply_prompt, cannot_merge=_VIRTUAL_TOKENS, virtual_tokens=True),
    "ptuning": Method(apply_ptuning, cannot_merge=_VIRTUAL_TOKENS, virtual_tokens=True),
    "adapter": Method(_apply_adapter, cannot_merge="it adds bottleneck layers that a plain model does not have"),
    # Zero-/few-shot: they fit their model themselves; text classification's fewshot/ package holds their code.
    "zeroshot-embed": Method(None, cannot_merge=_EMBEDDINGS, trains=False),
    "zeroshot-llm": Method(None, cannot_merge=_LLM_SCORED, trains=False),
    "setfit": Method(None, cannot_merge=_MEAN_POOLED),
}


def apply_method(model: torch.nn.Module, cfg: Frozen) -> torch.nn.Module:
    """The model to train: `model` with only the method's parameters (and the head) left trainable."""
    apply = METHODS[cfg.name].apply
    if apply is None:
        raise ValueError(f"method {cfg.name} fits its model itself; it adapts no given model")
    return apply(model, cfg)


def step_hook(model: torch.nn.Module, cfg: Frozen) -> StepHook | None:
    """What the training loop calls after each optimiser step for this method, if anything."""
    make = METHODS[cfg.name].step_hook
    return make(model, cfg) if make else None


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
