"""tuneforge: fine-tune pretrained language models on your own data and put them in production."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TextClassifier", "TokenClassifier", "load", "load_config", "train"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from tuneforge.tasks import load, load_config, train
    from tuneforge.tasks.text_classification.estimator import TextClassifier
    from tuneforge.tasks.token_classification.estimator import TokenClassifier

_LAZY = {
    "TextClassifier": "tuneforge.tasks.text_classification.estimator",
    "TokenClassifier": "tuneforge.tasks.token_classification.estimator",
    "load": "tuneforge.tasks",
    "load_config": "tuneforge.tasks",
    "train": "tuneforge.tasks",
}


def __getattr__(name: str) -> Any:
    # Lazy: `import tuneforge` and `tuneforge --help` stay fast; torch loads only when a model is needed.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tuneforge' has no attribute {name!r}")
