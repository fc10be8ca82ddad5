"""The 422 body: FastAPI's error list without the `input` it echoes back.

The echoed input made the error response itself fail, a 500: a body `NaN` is not JSON (Starlette writes with
allow_nan=False), and a lone surrogate ("\\ud800") cannot be encoded as UTF-8.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["invalid_request"]


async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    """A 422 listing every error (type, loc, msg, ctx), each string and number made writable as JSON."""
    errors = [{name: value for name, value in error.items() if name != "input"} for error in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": _writable(jsonable_encoder(errors))})


def _writable(value: Any) -> Any:
    """Lone surrogates (in a field name the body gave, say) become U+FFFD; NaN and infinities become strings."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_writable(item) for item in value]
    if isinstance(value, dict):
        return {_writable(key): _writable(item) for key, item in value.items()}
    return value
