"""`POST /v1/feedback`: a corrected label, a rating, a corrected answer or corrected entities for a prediction id."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.exceptions import RequestValidationError

from tuneforge.data.records import _FORMULA_START as FORMULA_START  # the CSV-injection rule of exports
from tuneforge.serve.deps import AUTH_ERRORS, State, require_scope
from tuneforge.serve.keys import KeyInfo
from tuneforge.serve.schemas import FeedbackCreated, FeedbackRequest

router = APIRouter(tags=["feedback"], responses=AUTH_ERRORS)


@router.post("/v1/feedback", status_code=201, responses={404: {"description": "No prediction has this id."}})
def feedback(
    body: FeedbackRequest, key: Annotated[KeyInfo, Depends(require_scope("feedback"))], state: State
) -> FeedbackCreated:
    """Stored and committed before the 201 is sent (a sync route: FastAPI runs it in a worker thread).

    Only for a logged prediction, with labels of the model that made it; the row records the key that sent it, so
    that one key's feedback can be told apart (and dropped).
    """
    model = state.predictions.model_of(body.prediction_id)
    if model is None:
        raise HTTPException(404, f"no prediction '{body.prediction_id}' was logged")
    fields = body.model_dump(exclude={"prediction_id"}, exclude_none=True)
    errors = _unknown_labels(body, model, state)
    if not errors and "entities" in fields:
        if problem := state.feedback.span_problem(body.prediction_id, fields["entities"]):
            errors.append({"type": "value_error", "loc": ("body", "entities"), "msg": problem})
    if errors:
        raise RequestValidationError(errors)
    row_id = state.feedback.record(body.prediction_id, key.id, **fields)
    return FeedbackCreated(id=row_id, prediction_id=body.prediction_id)


def _unknown_labels(body: FeedbackRequest, model: str, state: State) -> list[dict[str, Any]]:
    """422 errors for labels (and entity types) the model does not have; none for models without labels.

    With `feedback_new_labels`, a label outside the set passes when it could be a class name (`_new_label_problem`).
    """
    served = state.registry.get(model)
    labels = served.labels if served is not None else ()
    if not labels:
        return []
    given = [(("body", "label"), body.label)] if body.label is not None else []
    given += [(("body", "entities", i, "label"), entity.label) for i, entity in enumerate(body.entities or [])]
    known = ", ".join(labels)
    errors = []
    for loc, label in given:
        if label in labels:
            continue
        if not state.settings.feedback_new_labels:
            problem = f"'{label}' is not a label of model '{model}'; its labels: {known}"
        elif not (problem := _new_label_problem(label)):
            continue
        errors.append({"type": "value_error", "loc": loc, "msg": problem})
    return errors


def _new_label_problem(label: str) -> str:
    """Why `label` cannot be a new class name, or "": it ends up in exported training CSVs and a config's labels."""
    if not 1 <= len(label) <= 100:
        return f"a new label must have 1-100 characters, got {len(label)}"
    if any(unicodedata.category(char) == "Cc" for char in label):
        return "a new label may not hold control characters"
    if label.startswith(FORMULA_START):
        return "a new label may not start with =, +, -, @, a tab or a carriage return (spreadsheets run it)"
    return ""
