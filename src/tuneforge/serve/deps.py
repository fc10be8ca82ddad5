"""What routes depend on: the server state, and the API key with a given scope."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from tuneforge.serve.batching import MicroBatcher
from tuneforge.serve.feedback import FeedbackStore
from tuneforge.serve.keys import KeyInfo, KeyStore
from tuneforge.serve.limits import RateLimiter
from tuneforge.serve.metrics import Metrics
from tuneforge.serve.predlog import PredictionLog
from tuneforge.serve.registry import ModelRegistry, ServedModel
from tuneforge.serve.settings import Settings

__all__ = ["AUTH_ERRORS", "Predict", "ServeState", "State", "require_scope", "served_model"]


@dataclass
class ServeState:
    settings: Settings
    registry: ModelRegistry
    keys: KeyStore
    feedback: FeedbackStore
    predictions: PredictionLog
    metrics: Metrics
    limiter: RateLimiter
    model_roots: tuple[Path, ...] = ()  # where a reload may load from, resolved
    batchers: dict[str, MicroBatcher] = field(default_factory=dict)
    ready: bool = False
    load_error: str | None = None


# Documented on every router behind a key, so that the OpenAPI schema lists what clients can get.
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not valid UTF-8."},
    401: {"description": "Missing, unknown or revoked API key."},
    403: {"description": "The key lacks the scope this endpoint needs."},
    413: {"description": "Request body over max_body_bytes."},
    429: {"description": "Rate limit of the key exceeded; see Retry-After."},
}


def _state(request: Request) -> ServeState:
    return request.app.state.serving


State = Annotated[ServeState, Depends(_state)]
_bearer = HTTPBearer(auto_error=False, description="An API key from `tuneforge keys create`.")


def require_scope(scope: str) -> Callable[..., KeyInfo]:
    """A dependency: 401 without a valid key, 403 without `scope`, 429 over the key's rate limit."""

    async def check(
        state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> KeyInfo:
        unauthorized = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'", headers=unauthorized)
        secret = credentials.credentials
        key = state.keys.cached(secret) or await run_in_threadpool(state.keys.verify, secret)
        if key is None:
            raise HTTPException(401, "invalid or revoked API key", headers=unauthorized)
        if scope not in key.scopes:
            raise HTTPException(403, f"key '{key.name}' lacks the '{scope}' scope")
        if wait := state.limiter.allow(key.id):
            state.metrics.rejected.labels("rate_limit").inc()
            raise HTTPException(429, "rate limit exceeded", headers={"Retry-After": str(math.ceil(wait))})
        return key

    return check


Predict = Annotated[KeyInfo, Depends(require_scope("predict"))]


def served_model(state: ServeState, name: str) -> ServedModel:
    model = state.registry.get(name)
    if model is None and not state.ready and state.load_error is None:
        raise HTTPException(503, "models are still loading; see /readyz", headers={"Retry-After": "5"})
    if model is None:
        raise HTTPException(404, f"no model '{name}'; served: {', '.join(state.registry.names()) or 'none'}")
    return model
