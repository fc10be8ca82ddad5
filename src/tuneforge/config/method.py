"""The `method` block: the union of every method's block, each kept beside its method.

The weight-adapting methods' blocks live in tuneforge/methods/blocks.py, the zero- and few-shot ones in
tuneforge/methods/fewshot_blocks.py; this is the one place they are put together.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tuneforge.methods.blocks import (
    AdaLoraMethod,
    AdapterMethod,
    BitFitMethod,
    FreezeMethod,
    FullMethod,
    IA3Method,
    LoraMethod,
    PrefixMethod,
    PromptMethod,
    PTuningMethod,
)
from tuneforge.methods.fewshot_blocks import SetFitMethod, ZeroShotEmbedMethod, ZeroShotLLMMethod

__all__ = ["MethodConfig"]

MethodConfig = Annotated[
    FullMethod
    | FreezeMethod
    | BitFitMethod
    | LoraMethod
    | AdaLoraMethod
    | IA3Method
    | PrefixMethod
    | PromptMethod
    | PTuningMethod
    | AdapterMethod
    | ZeroShotEmbedMethod
    | ZeroShotLLMMethod
    | SetFitMethod,
    Field(discriminator="name"),
]
"""What is trained: one block per method, told apart by `name`; each block accepts only its own keys."""
