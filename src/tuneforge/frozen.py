"""The one base class of every config block (config/ and the method blocks beside their methods): frozen, and
unknown keys are errors. Outside config/, so that method blocks import it without importing the config package."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
