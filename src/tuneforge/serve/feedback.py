"""The feedback store: every prediction is logged under an id; feedback on it becomes next round's training data."""

from __future__ import annotations

import csv
import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from tuneforge.data.normalize import normalize_text
from tuneforge.data.pii import redact
from tuneforge.errors import DataError
from tuneforge.serve.db import Feedback, PredictionRecord, utcnow

__all__ = ["FeedbackStore", "LoggedPrediction"]


@dataclass(frozen=True)
class LoggedPrediction:
    id: str
    text: str
    output: Any


class FeedbackStore:
    """Writes predictions and feedback; exports labelled feedback as a CSV that `tuneforge train` reads."""

    def __init__(self, engine: Engine, *, log_texts: bool) -> None:
        self.engine, self.log_texts = engine, log_texts

    def log_predictions(self, model: str, task: str, predictions: list[LoggedPrediction]) -> None:
        """One transaction. Texts are stored only when enabled, and then only after PII redaction."""
        self.insert_predictions([(model, task, p) for p in predictions])

    def insert_predictions(self, rows: list[tuple[str, str, LoggedPrediction]]) -> None:
        """Many requests' predictions in one executemany: (model, task, prediction) each."""
        values = [
            {
                "id": p.id,
                "model": model,
                "task": task,
                "text": self._stored_text(p.text),
                "output": p.output,
                "created_at": utcnow(),
            }
            for model, task, p in rows
        ]
        with self.engine.begin() as connection:
            connection.execute(insert(PredictionRecord), values)

    def _stored_text(self, text: str) -> str | None:
        # The same normalise-then-redact as training's data cleaning, so exported rows look like training rows.
        return redact(normalize_text(text))[0] if self.log_texts else None

    def record(self, prediction_id: str, key_id: str, **fields: Any) -> int:
        """Store one feedback row (label, rating and/or answer) and return its id once committed."""
        with Session(self.engine) as session, session.begin():
            row = Feedback(prediction_id=prediction_id, key_id=key_id, **fields)
            session.add(row)
            session.flush()
            return row.id

    def known_prediction(self, prediction_id: str) -> bool:
        with Session(self.engine) as session:
            return session.get(PredictionRecord, prediction_id) is not None

    def export(
        self,
        output: Path,
        *,
        model: str,
        since: datetime.datetime | None = None,
        text_column: str = "text",
        label_column: str = "label",
    ) -> tuple[int, int]:
        """Write `text_column,label_column` rows: the logged text of each prediction with a corrected label (the
        latest correction wins). Returns (rows written, labelled predictions skipped because no text was logged).
        """
        query = (
            select(PredictionRecord.id, PredictionRecord.text, Feedback.label)
            .join(Feedback, Feedback.prediction_id == PredictionRecord.id)
            .where(PredictionRecord.model == model, Feedback.label.is_not(None))
            .order_by(Feedback.id)
        )
        if since is not None:
            query = query.where(Feedback.created_at >= since)
        with Session(self.engine) as session:
            latest = {pid: (text, label) for pid, text, label in session.execute(query)}
        rows = [(text, label) for text, label in latest.values() if text]
        if not rows:
            raise DataError(
                f"no labelled feedback for model '{model}'"
                + (f" since {since.isoformat()}" if since else "")
                + ("" if not latest else f"; {len(latest)} labelled prediction(s) have no logged text (log_texts off)")
            )
        tmp = output.with_name(output.name + ".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([text_column, label_column])
            writer.writerows(rows)
        os.replace(tmp, output)
        return len(rows), len(latest) - len(rows)
