"""Feedback export: the served model's task row (`TaskSpec.feedback`) writes the file, so that `tuneforge train`
reads it unchanged. This module owns the database side: which predictions got feedback (since a date), the latest
correction of each, the output's suffix, and a file that appears whole or not at all.
"""

from __future__ import annotations

import datetime
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tuneforge.data.read import detect_format
from tuneforge.errors import ConfigError, DataError
from tuneforge.serve.db import Feedback, PredictionRecord
from tuneforge.tasks import TASKS
from tuneforge.tasks.base import FeedbackFormat

__all__ = ["Exported", "export_feedback"]

_CORRECTIONS = ("label", "answer", "entities", "rating")  # Feedback columns; each record gets the latest non-null


@dataclass(frozen=True)
class Exported:
    """`rows` lines of `unit` written; per reason, how many predictions with feedback were left out."""

    rows: int
    unit: str
    skipped: Counter[str] = field(default_factory=Counter)
    last_feedback_id: int | None = None  # the newest feedback row read: a continual round's next `after_id`


def export_feedback(
    engine: Engine,
    output: Path,
    *,
    model: str,
    since: datetime.datetime | None = None,
    min_rating: int | None = None,
    text_column: str = "text",
    label_column: str = "label",
    after_id: int | None = None,
) -> Exported:
    """Write `model`'s feedback since `since` (by feedback time) and after feedback row `after_id` to `output` in
    the format of the model's task.

    >>> export_feedback(connect("sqlite:///serve.db"), Path("chats.jsonl"), model="support")  # doctest: +SKIP
    Exported(rows=120, unit='conversations', skipped=Counter())
    """
    with Session(engine) as session:
        task = _task(session, model)
        fmt = _format_of(task, model)
        if min_rating is not None and not fmt.rated:
            raise ConfigError(f"--min-rating: applies to chat models; '{model}' is a {task} model")
        _check_suffix(output, fmt, task)
        records, last_id = _records(session, model, task, since, after_id)
    options = {"min_rating": min_rating, "text_column": text_column, "label_column": label_column}
    staging = output.with_name(output.name + ".tmp")  # moved into place whole: a reader never sees half a file
    try:
        rows, skipped = fmt.write(records, staging, options)
        if not rows:
            reasons = "".join(f"; {n} left out: {reason}" for reason, n in skipped.items())
            when = f" since {since.isoformat()}" if since else ""
            raise DataError(f"no {fmt.unit} in the feedback for model '{model}'{when}{reasons}")
        os.replace(staging, output)
    finally:
        staging.unlink(missing_ok=True)
    return Exported(rows, fmt.unit, Counter(skipped), last_id)


def _task(session: Session, model: str) -> str:
    """The task of the model's latest logged prediction: a reload may have changed it."""
    latest = select(PredictionRecord.task).where(PredictionRecord.model == model)
    task = session.scalar(latest.order_by(PredictionRecord.created_at.desc()).limit(1))
    if task is None:
        logged = session.scalars(select(PredictionRecord.model).distinct()).all()
        raise DataError(
            f"no feedback for model '{model}': none of its predictions is logged; logged models: "
            + (", ".join(sorted(logged)) or "none")
        )
    return task


def _format_of(task: str, model: str) -> FeedbackFormat:
    """The feedback format of the row named `task`, or of the row that serves plain dirs of that kind."""
    formats = {spec.name: spec.feedback for spec in TASKS.values() if spec.feedback}
    formats |= {kind: fmt for fmt in list(formats.values()) for kind in fmt.kinds}
    if task not in formats:
        supported = ", ".join(f"{name} ({fmt.suffixes[0].lstrip('.')})" for name, fmt in formats.items())
        raise ConfigError(f"--model {model}: a {task} model; feedback export supports {supported} models")
    return formats[task]


def _check_suffix(output: Path, fmt: FeedbackFormat, task: str) -> None:
    try:
        implied = detect_format(output)
    except DataError:
        return  # a suffix tuneforge does not know: training then needs data.format, as for any such file
    if implied not in {detect_format(Path(f"feedback{suffix}")) for suffix in fmt.suffixes}:
        written = fmt.suffixes[0].lstrip(".")
        raise ConfigError(
            f"--output {output}: feedback of a {task} model is written as {written}, but `tuneforge train` would "
            f"read a '{output.suffix}' file as {implied}; name it *.{written}"
        )


def _records(
    session: Session, model: str, task: str, since: datetime.datetime | None, after_id: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """Per prediction with feedback (by first feedback): its logged input and output, and the latest correction;
    and the id of the newest feedback row read."""
    query = (
        select(Feedback.id, PredictionRecord.id, PredictionRecord.text, PredictionRecord.output)
        .add_columns(*(getattr(Feedback, name) for name in _CORRECTIONS))
        .join(Feedback, Feedback.prediction_id == PredictionRecord.id)
        .where(PredictionRecord.model == model, PredictionRecord.task == task)
        .order_by(Feedback.id)  # oldest first, so that the latest wins
    )
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    if after_id is not None:
        query = query.where(Feedback.id > after_id)
    records: dict[str, dict[str, Any]] = {}
    last_id = None
    for feedback_id, prediction_id, text, output, *corrections in session.execute(query):
        last_id = feedback_id
        record = records.setdefault(prediction_id, {"input": text, "output": output, **dict.fromkeys(_CORRECTIONS)})
        record.update(
            {name: value for name, value in zip(_CORRECTIONS, corrections, strict=True) if value is not None}
        )
    return list(records.values()), last_id
