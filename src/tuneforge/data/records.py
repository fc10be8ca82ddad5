"""Rows in and predictions out for `tuneforge predict`: every task reads and writes its files through these."""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuneforge.data.read import read_table
from tuneforge.errors import DataError

__all__ = ["output_columns", "read_rows", "write_records"]

# OWASP "CSV Injection": a spreadsheet runs a cell that starts with one of these as a formula
# (=HYPERLINK(...), +cmd|' /C calc'!A0, @SUM(...), -2+3); tab and carriage return hide such a start.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def read_rows(source: Path, column: str) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """The columns and rows of an input file, and the text of each row in `column`; DataError on unreadable rows
    and on rows whose text is empty or only spaces, which the server refuses too."""
    table = read_table(source)
    if column not in table.columns:
        raise DataError(f"{source}: no column '{column}'; columns are {', '.join(table.columns)}; use --text-column")
    bad = [f"{source}:{row.line}: {row.error}" for row in table.rows if row.values is None]
    if bad:
        raise DataError(f"{source}: {len(bad)} unreadable row(s)", bad)
    rows = [row.values for row in table.rows if row.values is not None]  # all rows: unreadable ones were refused above
    texts = ["" if r.get(column) is None else str(r[column]) for r in rows]
    lines = [row.line for row in table.rows]
    if empty := [f"{source}:{line}: empty text" for line, text in zip(lines, texts, strict=True) if not text.strip()]:
        raise DataError(f"{source}: {len(empty)} row(s) with an empty text in column '{column}'", empty)
    return table.columns, rows, texts


def output_columns(source: Path, columns: Sequence[str], added: Sequence[str]) -> list[str]:
    """The header of a prediction file: the input columns, then the ones the estimator `added`.

    An input column with one of our names is refused rather than overwritten (the prediction would silently
    replace the user's data, and the header would hold the name twice); refusing, not renaming ours, keeps the
    output names that users' scripts read stable. Call it before predicting, so a clash fails before any work.

    >>> output_columns(Path("in.csv"), ["id", "text"], ["label", "score"])
    ['id', 'text', 'label', 'score']
    """
    if clashes := [name for name in added if name in columns]:
        names = ", ".join(f"'{name}'" for name in clashes)
        raise DataError(
            f"{source}: input column(s) {names} would be overwritten by the predictions, which add "
            f"{', '.join(added)}; rename or drop {names} in the input file"
        )
    return [*columns, *added]


def write_records(path: Path, columns: list[str], records: list[dict[str, Any]]) -> None:
    """Write `records` atomically as JSONL (by suffix) or CSV with `columns` (see `output_columns`).

    CSV cells that a spreadsheet would run as a formula (text starting with = + - @, tab or carriage return) get a
    leading single quote, the OWASP CSV-injection rule; a plain number such as "-3" or "+1.5e3" is left as it is,
    since a spreadsheet reads it as a number, not a formula. JSONL is written untouched: its readers are JSON
    parsers, which never evaluate a string, and escaping would change the user's data.
    """
    _check_target(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        if path.suffix.lower() == ".jsonl":
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        else:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writerow({name: _escape_formula(name) for name in columns})  # a column name is a cell too
            writer.writerows({key: _escape_formula(value) for key, value in r.items()} for r in records)
    os.replace(tmp, path)


def _check_target(path: Path) -> None:
    # The file is written beside `path` and renamed over it, which would replace a device or a pipe
    # (`--output /dev/stdout`, `/dev/null`) with a regular file for everyone; a folder or a missing parent would
    # end in a traceback. Only a new or regular file is written.
    if path.is_dir():
        raise DataError(f"--output {path} is a folder; give a file path such as {path / 'predictions.csv'}")
    if (path.exists() or path.is_symlink()) and not path.is_file():
        raise DataError(f"--output {path} is not a regular file (a device, a pipe or a broken link); give a file path")
    if not path.parent.is_dir():
        raise DataError(f"--output {path}: the folder {path.parent} does not exist; create it first")


def _escape_formula(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
