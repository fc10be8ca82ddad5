"""The config tree: frozen pydantic models, one part per stage. `load_config` is the only YAML reader.

Relative paths in a config resolve against the working directory, as in `tuneforge train configs/demo.yaml`
run from the project root.

>>> cfg = load_config("configs/demo.yaml", ["train.epochs=2"])  # doctest: +SKIP
>>> cfg.train.epochs
2.0

Modules: load.py (YAML and `--set` overrides), describe.py (one line per validation error), base.py (the frozen
base of every block), data.py, train.py, tracking.py (stage blocks), method.py (the union of the method blocks,
which live beside their methods: tuneforge/methods/blocks.py, tuneforge/methods/fewshot_blocks.py),
root.py (Config).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneforge.config.data import CleanConfig, DataConfig, NerDataConfig, SplitConfig
    from tuneforge.config.load import load_config, parse_overrides
    from tuneforge.config.method import MethodConfig
    from tuneforge.config.root import Config
    from tuneforge.config.sft import SftConfig
    from tuneforge.config.tracking import TrackingConfig
    from tuneforge.config.train import EarlyStoppingConfig, TrainConfig
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

_HOME = {
    "AdaLoraMethod": "tuneforge.methods.blocks",
    "AdapterMethod": "tuneforge.methods.blocks",
    "AdversarialConfig": "tuneforge.config.train",
    "BitFitMethod": "tuneforge.methods.blocks",
    "CleanConfig": "tuneforge.config.data",
    "Config": "tuneforge.config.root",
    "DataConfig": "tuneforge.config.data",
    "EarlyStoppingConfig": "tuneforge.config.train",
    "FreezeMethod": "tuneforge.methods.blocks",
    "FullMethod": "tuneforge.methods.blocks",
    "IA3Method": "tuneforge.methods.blocks",
    "LoraMethod": "tuneforge.methods.blocks",
    "MethodConfig": "tuneforge.config.method",
    "NerDataConfig": "tuneforge.config.data",
    "PTuningMethod": "tuneforge.methods.blocks",
    "PrefixMethod": "tuneforge.methods.blocks",
    "PromptMethod": "tuneforge.methods.blocks",
    "SetFitMethod": "tuneforge.methods.fewshot_blocks",
    "SftConfig": "tuneforge.config.sft",
    "SplitConfig": "tuneforge.config.data",
    "TrackingConfig": "tuneforge.config.tracking",
    "TrainConfig": "tuneforge.config.train",
    "ZeroShotEmbedMethod": "tuneforge.methods.fewshot_blocks",
    "ZeroShotLLMMethod": "tuneforge.methods.fewshot_blocks",
    "load_config": "tuneforge.config.load",
    "parse_overrides": "tuneforge.config.load",
}
"""Where each name is defined (AdversarialConfig is importable as before, though not in __all__)."""

__all__ = [
    "AdaLoraMethod",
    "AdapterMethod",
    "BitFitMethod",
    "CleanConfig",
    "Config",
    "DataConfig",
    "EarlyStoppingConfig",
    "FreezeMethod",
    "FullMethod",
    "IA3Method",
    "LoraMethod",
    "MethodConfig",
    "NerDataConfig",
    "PTuningMethod",
    "PrefixMethod",
    "PromptMethod",
    "SetFitMethod",
    "SftConfig",
    "SplitConfig",
    "TrackingConfig",
    "TrainConfig",
    "ZeroShotEmbedMethod",
    "ZeroShotLLMMethod",
    "load_config",
    "parse_overrides",
]


def __getattr__(name: str) -> Any:
    # Resolved on first use, not at import: the method blocks import base._Frozen from this package, so this
    # package must not import them while it loads (tuneforge.methods.blocks imported first would be a cycle).
    if name not in _HOME:
        raise AttributeError(f"module 'tuneforge.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
