"""Liveness, readiness and Prometheus metrics; no key needed (the server binds 127.0.0.1 by default)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tuneforge.serve.deps import State

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Models are still loading or failed to load."}})
async def readyz(state: State) -> JSONResponse:
    """Every model is loaded and can take requests."""
    body = {"status": "ready" if state.ready else "loading", "models": state.registry.names()}
    if state.load_error:
        body.update(status="failed", error=state.load_error)
    return JSONResponse(body, status_code=200 if state.ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(state: State) -> Response:
    """Prometheus text format: requests, latency, batch sizes, queue depth, generated tokens."""
    for name, batcher in state.batchers.items():
        state.metrics.queue_depth.labels(name).set(batcher.queued)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
