"""Rows in and predictions out for `tuneforge predict`: every task reads and writes its files through these."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from tuneforge.data.read import read_table
from tuneforge.errors import DataError

__all__ = ["read_rows", "write_records"]


def read_rows(source: Path, column: str) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """The columns and rows of an input file, and the text of each row in `column`; DataError on unreadable rows."""
    table = read_table(source)
    if column not in table.columns:
        raise DataError(f"{source}: no column '{column}'; columns are {', '.join(table.columns)}; use --text-column")
    bad = [f"{source}:{row.line}: {row.error}" for row in table.rows if row.values is None]
    if bad:
        raise DataError(f"{source}: {len(bad)} unreadable row(s)", bad)
    rows = [row.values for row in table.rows if row.values is not None]
    return table.columns, rows, [str(r.get(column) or "") for r in rows]


def write_records(path: Path, columns: list[str], records: list[dict[str, Any]]) -> None:
    """Write `records` atomically as JSONL (by suffix) or CSV with `columns`."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        if path.suffix.lower() == ".jsonl":
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        else:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(records)
    os.replace(tmp, path)
