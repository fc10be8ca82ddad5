"""The HTTP service: `create_app(settings, models)`; `tuneforge serve` runs it with uvicorn."""

from tuneforge.serve.app import create_app
from tuneforge.serve.settings import Settings

__all__ = ["Settings", "create_app"]
