"""`POST /admin/models/{name}/reload`: load a run and swap it in; requests in flight finish on the old model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from starlette.concurrency import run_in_threadpool

from tuneforge.errors import TuneforgeError
from tuneforge.serve.deps import AUTH_ERRORS, State, require_scope, served_model
from tuneforge.serve.keys import KeyInfo
from tuneforge.serve.registry import load_model
from tuneforge.serve.schemas import ModelCard, ReloadRequest

router = APIRouter(tags=["admin"], responses=AUTH_ERRORS)
log = logging.getLogger("tuneforge.serve")


@router.post(
    "/admin/models/{name}/reload",
    responses={
        403: {"description": "The path is outside the model folders (TUNEFORGE_MODEL_ROOTS)."},
        404: {"description": "No such model."},
        503: {"description": "Models are still loading."},
    },
)
async def reload(
    name: str,
    key: Annotated[KeyInfo, Depends(require_scope("admin"))],
    state: State,
    body: Annotated[ReloadRequest | None, Body()] = None,
) -> ModelCard:
    """Load `path` (default: the model's own dir again) off the event loop, then switch to it atomically."""
    current = served_model(state, name)
    path = Path(body.path) if body and body.path else current.path
    if "\x00" in str(path):  # the filesystem cannot name it; resolve() would raise
        raise HTTPException(422, "path: holds a NUL character")
    if not any(path.resolve().is_relative_to(root) for root in state.model_roots):
        roots = ", ".join(str(root) for root in state.model_roots)
        raise HTTPException(
            403,
            f"{path} is outside the model folders this server may load from ({roots}); "
            "set TUNEFORGE_MODEL_ROOTS to allow others",
        )
    try:
        new = await run_in_threadpool(load_model, name, path)
        state.registry.swap(new)
    except (TuneforgeError, OSError, ValueError) as exc:  # a bad path or model files: the old model stays
        raise HTTPException(422, str(exc)) from None
    log.info("model %s reloaded from %s by key %s", name, path, key.name)
    return ModelCard(id=name, task=new.task)
