"""Feedback export of a chat model: OpenAI chat JSONL, the logged turns followed by the corrected answer; with
`min_rating`, also the model's own answer where its latest rating is at least that."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tuneforge.data.pii import redact
from tuneforge.tasks.base import NOT_LOGGED

__all__ = ["write_conversations"]


def write_conversations(
    records: list[dict[str, Any]], output: Path, options: dict[str, Any]
) -> tuple[int, dict[str, int]]:
    """One conversation per corrected (or, with `min_rating`, well-rated) answer that training accepts."""
    min_rating = options.get("min_rating")
    lines: list[str] = []
    skipped: Counter[str] = Counter()
    for record in records:
        if record["answer"] is not None:
            # Typed by a person, who may quote the customer: redacted like the logged turns.
            answer = redact(record["answer"])[0]
        elif min_rating is not None and (record["rating"] or 0) >= min_rating:
            answer = (record["output"] or {}).get("answer")
        else:
            continue  # a rating alone, below min_rating: no training data
        messages, problem = _chat(record["input"], answer)
        if problem:
            skipped[problem] += 1
        else:
            lines.append(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
    output.write_text("".join(lines), encoding="utf-8")
    return len(lines), skipped


def _chat(text: str | None, answer: str | None) -> tuple[list[dict[str, str]], str | None]:
    """The turns `tuneforge train` accepts, or why there are none: it rejects empty turns and chats with no user."""
    if text is None or answer is None:
        return [], NOT_LOGGED
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
