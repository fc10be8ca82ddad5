"""Model versions: numbered run dirs per model name, a champion pointer that moves atomically, and the rounds
that produced them. Torch-free, so that `tuneforge models ...` and the server's watcher start fast.

>>> from tuneforge.registry import ModelVersions, registry_root
>>> ModelVersions(registry_root(None), "intent").champion()  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from tuneforge.registry.versions import ModelVersions, Version

__all__ = ["ModelVersions", "Version", "registry_root"]


def registry_root(given: Path | None) -> Path:
    """`given`, else $TUNEFORGE_REGISTRY, else ./models."""
    return given or Path(os.environ.get("TUNEFORGE_REGISTRY") or "models")
