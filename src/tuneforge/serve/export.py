"""Feedback export: the served model's task picks the format, so that `tuneforge train` reads the file unchanged.

- text-classification: `text,label` CSV, the logged text of each prediction with a corrected label.
- causal-lm, causal-lm-sft: OpenAI chat JSONL, the logged turns followed by the corrected answer; with
  `min_rating`, also the model's own answer where its latest rating is at least that.

In both, the latest correction of a prediction wins.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session

from tuneforge.data.pii import redact
from tuneforge.data.read import detect_format
from tuneforge.errors import ConfigError, DataError
from tuneforge.rundir import write_text
from tuneforge.serve.db import Feedback, PredictionRecord

__all__ = ["EXPORT_FORMATS", "Exported", "export_feedback"]

# task -> format of the file written (a data.read format, so that the output's suffix can be checked against it)
EXPORT_FORMATS = {"text-classification": "csv", "causal-lm": "jsonl", "causal-lm-sft": "jsonl"}
_NO_TEXT = "no logged text (served without --log-texts)"


@dataclass(frozen=True)
class Exported:
    """`rows` lines of `unit` written; per reason, how many predictions with feedback were left out."""

    rows: int
    unit: str
    skipped: Counter[str] = field(default_factory=Counter)


def export_feedback(
    engine: Engine,
    output: Path,
    *,
    model: str,
    since: datetime.datetime | None = None,
    min_rating: int | None = None,
    text_column: str = "text",
    label_column: str = "label",
) -> Exported:
    """Write `model`'s feedback since `since` (by feedback time) to `output` in the format of the model's task.

    >>> export_feedback(connect("sqlite:///serve.db"), Path("chats.jsonl"), model="support")  # doctest: +SKIP
    Exported(rows=120, unit='conversations', skipped=Counter())
    """
    with Session(engine) as session:
        task = _task(session, model)
        fmt = EXPORT_FORMATS.get(task)
        if fmt is None:
            supported = ", ".join(f"{t} ({f})" for t, f in EXPORT_FORMATS.items())
            raise ConfigError(f"--model {model}: a {task} model; feedback export supports {supported} models")
        _check_suffix(output, fmt, task)
        query = _feedback_of(model, task, since)
        if fmt == "csv":
            if min_rating is not None:
                raise ConfigError(f"--min-rating: applies to chat models; '{model}' is a {task} model")
            rows = session.execute(query.add_columns(Feedback.label).where(Feedback.label.is_not(None))).all()
            text, exported = _labelled_texts(rows, text_column, label_column)
        else:
            columns = (PredictionRecord.output, Feedback.answer, Feedback.rating)
            text, exported = _conversations(session.execute(query.add_columns(*columns)).all(), min_rating)
    if not exported.rows:
        wanted = "labelled feedback" if fmt == "csv" else _chat_feedback(min_rating)
        reasons = "".join(f"; {n} left out: {reason}" for reason, n in exported.skipped.items())
        raise DataError(
            f"no {wanted} for model '{model}'" + (f" since {since.isoformat()}" if since else "") + reasons
        )
    write_text(output, text)  # via a .tmp file and os.replace: a reader never sees half a file
    return exported


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


def _check_suffix(output: Path, fmt: str, task: str) -> None:
    try:
        implied = detect_format(output)
    except DataError:
        return  # a suffix tuneforge does not know: training then needs data.format, as for any such file
    if implied != fmt:
        raise ConfigError(
            f"--output {output}: feedback of a {task} model is written as {fmt}, but `tuneforge train` would read "
            f"a '{output.suffix}' file as {implied}; name it *.{fmt}"
        )


def _feedback_of(model: str, task: str, since: datetime.datetime | None) -> Select[Any]:
    """The model's predictions joined to their feedback rows, oldest feedback first (so the latest wins)."""
    query = (
        select(PredictionRecord.id, PredictionRecord.text)
        .join(Feedback, Feedback.prediction_id == PredictionRecord.id)
        .where(PredictionRecord.model == model, PredictionRecord.task == task)
        .order_by(Feedback.id)
    )
    return query if since is None else query.where(Feedback.created_at >= since)


def _labelled_texts(rows: list[Any], text_column: str, label_column: str) -> tuple[str, Exported]:
    latest = {prediction_id: (text, label) for prediction_id, text, label in rows}
    labelled = [(text, label) for text, label in latest.values() if text]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([text_column, label_column])
    writer.writerows(labelled)
    skipped = Counter({_NO_TEXT: len(latest) - len(labelled)})
    return buffer.getvalue(), Exported(len(labelled), "labelled texts", +skipped)


def _conversations(rows: list[Any], min_rating: int | None) -> tuple[str, Exported]:
    logged: dict[str, tuple[str | None, Any]] = {}
    corrected: dict[str, str] = {}
    rating: dict[str, int] = {}
    for prediction_id, text, output, answer, rated in rows:
        logged[prediction_id] = (text, output)
        if answer is not None:
            corrected[prediction_id] = answer
        if rated is not None:
            rating[prediction_id] = rated
    lines: list[str] = []
    skipped: Counter[str] = Counter()
    for prediction_id, (text, output) in logged.items():
        if prediction_id in corrected:
            # Typed by a person, who may quote the customer: redacted like the logged turns.
            answer = redact(corrected[prediction_id])[0]
        elif min_rating is not None and rating.get(prediction_id, 0) >= min_rating:
            answer = (output or {}).get("answer")
        else:
            continue  # a rating alone, below min_rating: no training data
        messages, problem = _chat(text, answer)
        if problem:
            skipped[problem] += 1
        else:
            lines.append(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
    return "".join(lines), Exported(len(lines), "conversations", skipped)


def _chat(text: str | None, answer: str | None) -> tuple[list[dict[str, str]], str | None]:
    """The turns `tuneforge train` accepts, or why there are none: it rejects empty turns and chats with no user."""
    if text is None or answer is None:
        return [], _NO_TEXT
    try:
        turns = json.loads(text)
    except json.JSONDecodeError:
        return [], "logged turns are not valid JSON (logged by an older tuneforge)"
    turns = [turn for turn in turns if turn["content"].strip()]  # an empty turn says nothing; training rejects it
    if not any(turn["role"] == "user" for turn in turns):
        return [], "no user turn"
    if not answer.strip():
        return [], "empty answer"
    return [*turns, {"role": "assistant", "content": answer}], None


def _chat_feedback(min_rating: int | None) -> str:
    return "corrected answers" + (f" or answers rated >= {min_rating}" if min_rating is not None else "")
