"""Feedback export of a tabular classifier: JSONL of the logged records, each with its corrected label added
under `label_column` (the run's `data.label_column`, so that `tuneforge train` reads the file unchanged)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tuneforge.tasks.base import NOT_LOGGED

__all__ = ["write_labelled_records"]


def write_labelled_records(
    records: list[dict[str, Any]], output: Path, options: dict[str, Any]
) -> tuple[int, dict[str, int]]:
    """One line per logged record with a corrected label: its columns, then the label (replacing one sent)."""
    lines: list[str] = []
    skipped: Counter[str] = Counter()
    for record in records:
        if record["label"] is None:
            continue
        if not record["input"]:
            skipped[NOT_LOGGED] += 1
            continue
        try:
            logged = json.loads(record["input"])
        except json.JSONDecodeError:
            logged = None
        if not isinstance(logged, dict):
            skipped["logged input is not a JSON record"] += 1
            continue
        row = {**logged, options["label_column"]: record["label"]}
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    output.write_text("".join(lines), encoding="utf-8")
    return len(lines), skipped
