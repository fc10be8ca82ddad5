"""`create_app(settings, models)`: the FastAPI app. Models load in the background; /readyz says when they are in."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from tuneforge.precision import cpu_autocast
from tuneforge.serve.batching import MicroBatcher
from tuneforge.serve.db import connect
from tuneforge.serve.deps import ServeState
from tuneforge.serve.errors import invalid_request
from tuneforge.serve.feedback import FeedbackStore
from tuneforge.serve.keys import KeyStore
from tuneforge.serve.limits import BodySizeLimit, RateLimiter
from tuneforge.serve.metrics import Metrics, RequestMetrics
from tuneforge.serve.predlog import PredictionLog
from tuneforge.serve.registry import ModelRegistry, load_model
from tuneforge.serve.routes import admin, chat, feedback, health, predict
from tuneforge.serve.settings import Settings
from tuneforge.serve.watch import ChampionWatcher

__all__ = ["create_app"]

log = logging.getLogger("tuneforge.serve")


def create_app(settings: Settings, models: dict[str, Path], versions: dict[str, str] | None = None) -> FastAPI:
    """An app serving `models` (name -> run dir or HF causal-LM dir); `versions` names their registry versions.

    With `settings.registry`, each name follows its champion there (serve.watch).

    >>> app = create_app(Settings(), {"demo": Path("runs/demo")})  # doctest: +SKIP
    >>> uvicorn.run(app, host=app.state.serving.settings.host)  # doctest: +SKIP
    """
    engine = connect(settings.database_url)
    feedback_store = FeedbackStore(engine, log_texts=settings.log_texts)
    state = ServeState(
        settings=settings,
        registry=ModelRegistry(),
        keys=KeyStore(engine, cache_seconds=settings.key_cache_seconds),
        feedback=feedback_store,
        model_roots=tuple(p.resolve() for p in settings.model_roots or [path.parent for path in models.values()]),
        predictions=PredictionLog(feedback_store),
        metrics=Metrics(),
        limiter=RateLimiter(settings.rate_limit_per_minute),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(_load_all(state, models, versions or {}))
        watcher = ChampionWatcher(state.registry, settings.registry, list(models)) if settings.registry else None
        if watcher:
            watcher.start()
        yield
        if watcher:
            await run_in_threadpool(watcher.stop)
        loading.cancel()
        await asyncio.gather(loading, return_exceptions=True)
        for batcher in state.batchers.values():
            await batcher.close()
        await run_in_threadpool(state.predictions.close)
        engine.dispose()

    app = FastAPI(
        title="tuneforge",
        summary="Predictions, chat and feedback for fine-tuned models.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.serving = state
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    for module in (health, predict, chat, feedback, admin):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=state.metrics)
    return app


async def _load_all(state: ServeState, models: dict[str, Path], versions: dict[str, str]) -> None:
    for name, path in models.items():
        started = time.perf_counter()
        try:
            served = await run_in_threadpool(load_model, name, path, versions.get(name))
        except Exception as exc:  # shown by /readyz; /healthz stays up so that the error can be read
            state.load_error = f"model '{name}' from {path}: {type(exc).__name__}: {exc}"
            log.error("loading failed: %s", state.load_error)
            return
        if served.inputs == "texts":
            state.batchers[name] = _batcher(state, name)
        state.registry.swap(served)
        log.info("model %s (%s) loaded from %s in %.1f s", name, served.task, path, time.perf_counter() - started)
    state.ready = True


def _batcher(state: ServeState, name: str) -> MicroBatcher:
    settings, metrics = state.settings, state.metrics

    def run(texts: list[Any]) -> list[Any]:
        # Looked up per batch: after a hot swap the next batch runs on the new model.
        with cpu_autocast(settings.precision):
            return state.registry.get(name).predictor(texts)  # type: ignore[union-attr,misc]

    def observe(size: int, seconds: float) -> None:
        metrics.batch_size.labels(name).observe(size)
        metrics.batch_seconds.labels(name).observe(seconds)

    batcher = MicroBatcher(
        run,
        max_batch_size=settings.max_batch_size,
        max_wait_s=settings.max_wait_ms / 1000,
        max_queue=settings.max_queue,
        workers=settings.batch_workers,
        on_batch=observe,
        thread_init=partial(_set_torch_threads, settings),
    )
    batcher.start()
    return batcher


def _set_torch_threads(settings: Settings) -> None:
    """More threads than free cores make every OpenMP barrier wait for a descheduled thread: on 2 busy cores,
    32 single-text predictions took 37 s with 2 threads and 1.9 s with 1.
    """
    import torch

    cores = os.cpu_count() or 1
    torch.set_num_threads(settings.torch_threads or max(1, (cores - 1) // settings.batch_workers))
