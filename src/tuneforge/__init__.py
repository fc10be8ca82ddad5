"""tuneforge: fine-tune pretrained language models on your own data and put them in production."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TextClassifier", "TokenClassifier", "load_config", "train"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from tuneforge.classifier import TextClassifier
    from tuneforge.config import load_config
    from tuneforge.run import train
    from tuneforge.tagger import TokenClassifier

_LAZY = {
    "TextClassifier": "tuneforge.classifier",
    "TokenClassifier": "tuneforge.tagger",
    "load_config": "tuneforge.config",
    "train": "tuneforge.run",
}


def __getattr__(name: str) -> Any:
    # Lazy: `import tuneforge` and `tuneforge --help` stay fast; torch loads only when a model is needed.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tuneforge' has no attribute {name!r}")
