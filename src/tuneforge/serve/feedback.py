"""The feedback store: every prediction and chat completion is logged under an id, and feedback on it is recorded;
`serve.export` turns both into next round's training data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from tuneforge.data.normalize import normalize_text
from tuneforge.data.pii import redact
from tuneforge.serve.db import Feedback, PredictionRecord, utcnow

__all__ = ["FeedbackStore", "LoggedChat", "LoggedPrediction"]


@dataclass(frozen=True)
class LoggedPrediction:
    id: str
    text: str
    output: Any


@dataclass(frozen=True)
class LoggedChat:
    """A chat completion: the request's turns and the generated answer. Both are texts, logged as texts are."""

    id: str
    messages: list[dict[str, str]]
    answer: str


class FeedbackStore:
    """Writes logged predictions and feedback rows."""

    def __init__(self, engine: Engine, *, log_texts: bool) -> None:
        self.engine, self.log_texts = engine, log_texts

    def log_predictions(self, model: str, task: str, predictions: list[LoggedPrediction | LoggedChat]) -> None:
        """One transaction. Texts are stored only when enabled, and then only after PII redaction."""
        self.insert_predictions([(model, task, p) for p in predictions])

    def insert_predictions(self, rows: list[tuple[str, str, LoggedPrediction | LoggedChat]]) -> None:
        """Many requests' predictions in one executemany: (model, task, prediction) each."""
        values = [
            {"id": p.id, "model": model, "task": task, **self._stored(p), "created_at": utcnow()}
            for model, task, p in rows
        ]
        with self.engine.begin() as connection:
            connection.execute(insert(PredictionRecord), values)

    def _stored(self, prediction: LoggedPrediction | LoggedChat) -> dict[str, Any]:
        """The `text` and `output` columns: no text at all unless text logging is on, and then PII-redacted."""
        if isinstance(prediction, LoggedPrediction):
            # The same normalise-then-redact as training's data cleaning, so exported rows look like training rows.
            text = redact(normalize_text(prediction.text))[0] if self.log_texts else None
            return {"text": text, "output": prediction.output}
        if not self.log_texts:
            return {"text": None, "output": {}}
        # Each turn redacted but not normalised, as chat training data is (tasks/causal_lm_sft/prepare.py): line
        # breaks and full-width punctuation are part of the answers the model learns. Redacting the JSON text
        # instead could break its quoting.
        turns = [{**m, "content": redact(m["content"])[0]} for m in prediction.messages]
        return {"text": json.dumps(turns, ensure_ascii=False), "output": {"answer": redact(prediction.answer)[0]}}

    def record(self, prediction_id: str, key_id: str, **fields: Any) -> int:
        """Store one feedback row (label, rating and/or answer) and return its id once committed."""
        with Session(self.engine) as session, session.begin():
            row = Feedback(prediction_id=prediction_id, key_id=key_id, **fields)
            session.add(row)
            session.flush()
            return row.id

    def span_problem(self, prediction_id: str, entities: list[dict[str, Any]]) -> str | None:
        """Why `entities` cannot be spans of the prediction's logged text, or None (also when no text is logged)."""
        with Session(self.engine) as session:
            text = session.scalar(select(PredictionRecord.text).where(PredictionRecord.id == prediction_id))
        if text is None:
            return None  # nothing to check against; the export leaves such feedback out
        for i, entity in enumerate(entities):
            if entity["end"] > len(text):
                return f"entities[{i}]: end {entity['end']} lies past the logged text ({len(text)} characters)"
        return None

    def model_of(self, prediction_id: str) -> str | None:
        """The model of a committed prediction, or None when no prediction has this id."""
        with Session(self.engine) as session:
            return session.scalar(select(PredictionRecord.model).where(PredictionRecord.id == prediction_id))

    def known_prediction(self, prediction_id: str) -> bool:
        with Session(self.engine) as session:
            return session.get(PredictionRecord, prediction_id) is not None
