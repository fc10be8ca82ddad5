"""`POST /v1/feedback`: a corrected label, a rating, a corrected answer or corrected entities for a prediction id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError

from tuneforge.serve.deps import AUTH_ERRORS, State, require_scope
from tuneforge.serve.keys import KeyInfo
from tuneforge.serve.schemas import FeedbackCreated, FeedbackRequest

router = APIRouter(tags=["feedback"], responses=AUTH_ERRORS)


@router.post("/v1/feedback", status_code=201)
def feedback(
    body: FeedbackRequest, key: Annotated[KeyInfo, Depends(require_scope("feedback"))], state: State
) -> FeedbackCreated:
    """Stored and committed before the 201 is sent (a sync route: FastAPI runs it in a worker thread)."""
    fields = body.model_dump(exclude={"prediction_id"}, exclude_none=True)
    if "entities" in fields and (problem := state.feedback.span_problem(body.prediction_id, fields["entities"])):
        raise RequestValidationError([{"type": "value_error", "loc": ("body", "entities"), "msg": problem}])
    row_id = state.feedback.record(body.prediction_id, key.id, **fields)
    return FeedbackCreated(id=row_id, prediction_id=body.prediction_id)
