"""The `tracking` block: where experiments are logged."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tuneforge.frozen import Frozen

__all__ = ["TrackingConfig"]


class TrackingConfig(Frozen):
    backend: Literal["mlflow", "none"] = Field("mlflow", description="Experiment tracker.")
    uri: str | None = Field(None, description="Tracking URI; default a local ./mlruns store.")
    experiment: str | None = Field(None, description="Experiment name; default the output dir's name.")
