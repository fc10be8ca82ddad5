"""Feedback export of a text classifier: a `text,label` CSV of the logged texts that got a corrected label."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

from tuneforge.tasks.base import NOT_LOGGED

__all__ = ["write_labelled_texts"]


def write_labelled_texts(
    records: list[dict[str, Any]], output: Path, options: dict[str, Any]
) -> tuple[int, dict[str, int]]:
    """One row per logged text with a corrected label, under `options`' text and label column names."""
    corrected = [record for record in records if record["label"] is not None]
    labelled = [(record["input"], record["label"]) for record in corrected if record["input"]]
    with output.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow([options["text_column"], options["label_column"]])
        writer.writerows(labelled)
    return len(labelled), +Counter({NOT_LOGGED: len(corrected) - len(labelled)})
