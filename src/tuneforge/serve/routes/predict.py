"""`POST /v1/models/{name}/predict`: labels and probabilities or NER spans per text; tabular scores or
recommendations per JSON record."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, NoReturn

from fastapi import APIRouter, HTTPException, Response
from fastapi.exceptions import RequestValidationError

from tuneforge.errors import DataError
from tuneforge.serve.batching import QueueFull
from tuneforge.serve.deps import AUTH_ERRORS, Predict, State, served_model
from tuneforge.serve.feedback import LoggedPrediction
from tuneforge.serve.schemas import PredictRequest, PredictResponse

router = APIRouter(tags=["predict"], responses=AUTH_ERRORS)

_BUSY = {"description": "Queue full or model not loaded yet; see Retry-After."}


@router.post(
    "/v1/models/{name}/predict",
    responses={404: {"description": "No such model."}, 503: _BUSY},
)
async def predict(name: str, body: PredictRequest, key: Predict, state: State, response: Response) -> PredictResponse:
    """Predict every text (micro-batched with other requests) or record; each prediction gets an `id` for feedback.

    Served from a registry, the `X-Model-Version` header names the version that took the request."""
    model = served_model(state, name)
    if model.version:
        response.headers["X-Model-Version"] = model.version
    if model.predictor is None:
        raise HTTPException(404, f"'{name}' is a chat model; use POST /v1/chat/completions")
    takes_records = model.inputs == "records"
    if (body.records is not None) != takes_records:
        field, wanted = ("records", "texts") if body.records is not None else ("texts", "records")
        _invalid(field, "wrong_input", f"model '{name}' ({model.task}) takes {wanted}, not {field}")
    if body.records is not None:
        if len(body.records) > state.settings.max_texts:
            _invalid("records", "too_long", f"at most {state.settings.max_texts} records, got {len(body.records)}")
        outputs = await _predict_records(model.predictor, body.records)
        logged_inputs = [json.dumps(record, ensure_ascii=False, default=str) for record in body.records]
    else:
        assert body.texts is not None
        _check_texts(body.texts, state.settings.max_texts, state.settings.max_text_chars)
        try:
            outputs = await state.batchers[name].submit(body.texts)
        except QueueFull as exc:
            state.metrics.rejected.labels("queue_full").inc()
            raise HTTPException(
                503, "server busy: queue full", headers={"Retry-After": str(exc.retry_after)}
            ) from None
        assert model.preprocess is not None
        logged_inputs = model.preprocess(body.texts)  # what the model saw
    request_id = uuid.uuid4().hex
    predictions = [{"id": f"{request_id}-{i}", **output} for i, output in enumerate(outputs)]
    logged = [
        LoggedPrediction(p["id"], text, output)
        for p, text, output in zip(predictions, logged_inputs, outputs, strict=True)
    ]
    state.predictions.add(name, model.task, logged)  # written in bulk by another thread
    return PredictResponse(model=name, request_id=request_id, predictions=predictions)


async def _predict_records(predictor: Any, records: list[dict[str, Any]]) -> list[Any]:
    """One request's records in a worker thread; a record the model cannot take is a 422 naming it."""
    try:
        return await asyncio.to_thread(predictor, records)
    except DataError as exc:
        _invalid("records", "value_error", str(exc))


def _invalid(field: str, kind: str, message: str) -> NoReturn:
    raise RequestValidationError([{"type": kind, "loc": ("body", field), "msg": message}])


def _check_texts(texts: list[str], max_texts: int, max_chars: int) -> None:
    """422 in FastAPI's own error format, naming the field: `texts` or `texts[i]`."""
    errors = []
    if len(texts) > max_texts:
        errors.append(
            {
                "type": "too_long",
                "loc": ("body", "texts"),
                "msg": f"at most {max_texts} texts per request, got {len(texts)}",
            }
        )
    for i, text in enumerate(texts):  # empty texts and the schema's own bounds are the request model's
        if len(text) > max_chars:
            errors.append(
                {
                    "type": "string_too_long",
                    "loc": ("body", "texts", i),
                    "msg": f"at most {max_chars} characters, got {len(text)}",
                }
            )
    if errors:
        raise RequestValidationError(errors)
