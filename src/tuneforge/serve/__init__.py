"""The HTTP service: `create_app(settings, models)`; `tuneforge serve` runs it with uvicorn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuneforge.serve.settings import Settings

if TYPE_CHECKING:
    from tuneforge.serve.app import create_app

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    # The app (and torch, through it) loads only when served: `tuneforge keys` and `feedback export` stay fast.
    if name == "create_app":
        from tuneforge.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'tuneforge.serve' has no attribute {name!r}")
