"""The one base class of every config block (config/ and the method blocks beside their methods): frozen, and
unknown keys are errors, and so are inf and nan in float fields (`train.lr=.inf` trains a NaN model,
`train.epochs=1e400` is inf). Outside config/, so that method blocks import it without importing the config package."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
