"""Feedback export of a tagger: span JSONL (`{"text": ..., "entities": [{"start", "end", "label"}]}`) of the
logged texts that got corrected entities, the format `spans.read_span_jsonl` reads."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tuneforge.tasks.base import NOT_LOGGED

__all__ = ["write_entity_spans"]


def write_entity_spans(
    records: list[dict[str, Any]], output: Path, options: dict[str, Any]
) -> tuple[int, dict[str, int]]:
    """One line per logged text with corrected entities (an empty list: a text with none), under `text_column`."""
    corrected = [record for record in records if record["entities"] is not None]
    lines = [
        json.dumps(
            {options["text_column"]: record["input"], "entities": _spans(record["entities"])}, ensure_ascii=False
        )
        + "\n"
        for record in corrected
        if record["input"]
    ]
    output.write_text("".join(lines), encoding="utf-8")
    return len(lines), +Counter({NOT_LOGGED: len(corrected) - len(lines)})


def _spans(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(entities, key=lambda e: (e["start"], e["end"]))
    return [{"start": e["start"], "end": e["end"], "label": e["label"]} for e in ordered]
