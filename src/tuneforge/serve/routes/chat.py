"""OpenAI-compatible `/v1/models` and `/v1/chat/completions` (JSON, or server-sent events with `stream`)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from tuneforge.serve.deps import AUTH_ERRORS, Predict, ServeState, State, served_model
from tuneforge.serve.feedback import LoggedChat
from tuneforge.serve.schemas import ChatRequest, ModelCard, ModelList
from tuneforge.tasks.causal_lm_sft.chat_model import Generation

router = APIRouter(tags=["chat"], responses=AUTH_ERRORS)


@router.get("/v1/models")
async def models(key: Predict, state: State) -> ModelList:
    """Every served model; chat models are those with task `causal-lm` or another chat task."""
    return ModelList(
        data=[
            ModelCard(id=m.name, task=m.task, version=m.version)
            for n in state.registry.names()
            if (m := state.registry.get(n))
        ]
    )


@router.post(
    "/v1/chat/completions",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE chunks when `stream`."},
        404: {"description": "No such chat model."},
        503: {"description": "Models are still loading; see Retry-After."},
    },
)
def chat_completions(body: ChatRequest, key: Predict, state: State) -> Any:
    """Runs in a worker thread (sync route); a stream is iterated in one too, so decoding never blocks the loop."""
    for i, message in enumerate(body.messages):
        if len(message.content) > state.settings.max_text_chars:
            raise RequestValidationError(
                [
                    {
                        "type": "string_too_long",
                        "loc": ("body", "messages", i, "content"),
                        "msg": f"at most {state.settings.max_text_chars} characters, got {len(message.content)}",
                    }
                ]
            )
    model = served_model(state, body.model)
    if model.chat is None:
        raise HTTPException(404, f"'{body.model}' is not a chat model; use POST /v1/models/{body.model}/predict")
    limit = state.settings.max_new_tokens
    messages = [m.model_dump() for m in body.messages]
    generation = model.chat.stream(
        messages,
        seed=body.seed,
        max_new_tokens=min(body.max_tokens or limit, limit),
        temperature=body.temperature,
        top_p=body.top_p,
    )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        events = _events(state, model.name, model.task, completion_id, messages, generation)
        return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    answer = "".join(generation)
    _log(state, body.model, model.task, completion_id, messages, answer, generation)
    return {
        **_head(completion_id, body.model, "chat.completion"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": generation.finish_reason,
            }
        ],
        "usage": _usage(generation),
    }


def _events(
    state: ServeState, name: str, task: str, completion_id: str, messages: list[dict[str, str]], generation: Generation
) -> Iterator[str]:
    head = _head(completion_id, name, "chat.completion.chunk")
    yield _sse({**head, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})
    pieces = []
    for piece in generation:
        pieces.append(piece)
        yield _sse({**head, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
    final = {"index": 0, "delta": {}, "finish_reason": generation.finish_reason}
    yield _sse({**head, "choices": [final], "usage": _usage(generation)})
    yield "data: [DONE]\n\n"
    _log(state, name, task, completion_id, messages, "".join(pieces), generation)


def _log(
    state: ServeState,
    name: str,
    task: str,
    completion_id: str,
    messages: list[dict[str, str]],
    answer: str,
    generation: Generation,
) -> None:
    state.metrics.generated_tokens.labels(name).inc(generation.completion_tokens)
    # Logged under the completion's `id`, which clients send back as the feedback's prediction_id.
    state.predictions.add(name, task, [LoggedChat(completion_id, messages, answer)])


def _head(completion_id: str, name: str, kind: str) -> dict[str, Any]:
    return {"id": completion_id, "object": kind, "created": int(time.time()), "model": name}


def _usage(generation: Generation) -> dict[str, int]:
    total = generation.prompt_tokens + generation.completion_tokens
    return {
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "total_tokens": total,
    }


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
