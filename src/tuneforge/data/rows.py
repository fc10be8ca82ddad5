"""The records that flow through the data layer: raw rows of a table, clean examples, and row errors."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tuneforge.errors import DataError

__all__ = ["Example", "Row", "RowError", "Table"]


@dataclass(frozen=True)
class Example:
    """One training example, traceable to the line of the file it came from.

    >>> Example(text="where is my parcel", label="delivery", source="data/train.csv", line=2).label
    'delivery'
    """

    text: str
    label: str
    source: str
    line: int


@dataclass(frozen=True)
class RowError:
    """One problem in one row; a row with several problems gives several RowErrors.

    `raw` is the untouched text of the row (all its physical lines, final line ending stripped), so that
    rejected rows can be fixed and pasted back. `kind` groups errors for the report ("empty text", ...).

    >>> str(RowError("data/train.csv", 17, "text", "empty text", raw=",refund"))
    "data/train.csv:17: field 'text': empty text"
    """

    source: str
    line: int
    field: str
    problem: str
    raw: str
    kind: str = "invalid row"

    def __str__(self) -> str:
        where = "" if self.field == "row" else f"field '{self.field}': "
        return f"{self.source}:{self.line}: {where}{self.problem}"


@dataclass(frozen=True)
class Row:
    """One record of a file: `values` by column, or None with `error` set when it cannot be parsed.

    `line` is the 1-based physical line where the record starts (the header is line 1).
    """

    line: int
    values: dict[str, Any] | None
    raw: str
    error: str | None = None


@dataclass
class Table:
    """A file read into rows, with what was learned while reading it (format, detected encoding, notes)."""

    source: str
    columns: list[str]
    rows: list[Row]
    format: str
    encoding: str
    warnings: list[str] = field(default_factory=list)

    def require(self, columns: Mapping[str, str]) -> None:
        """Raise a DataError naming every missing column and the config key that selects it.

        `columns` maps config keys to column names, e.g. {"data.text_column": "text"}.
        """
        problems = [self._missing(key, name) for key, name in columns.items() if name not in self.columns]
        if len(problems) == 1:
            raise DataError(problems[0])
        if problems:
            raise DataError(f"{self.source}: {len(problems)} columns missing", problems)

    def _missing(self, key: str, name: str) -> str:
        found = ", ".join(repr(c) for c in self.columns) or "none"
        message = f"{self.source}: no column '{name}'; set {key} to the column that holds it. Columns found: {found}"
        if close := difflib.get_close_matches(name, self.columns, n=1, cutoff=0.6):
            message += f" (did you mean '{close[0]}'?)"
        return message + self._delimiter_hint()

    def _delimiter_hint(self) -> str:
        # A one-column header that contains a separator means the file was read with the wrong one.
        if self.format not in ("csv", "tsv") or len(self.columns) != 1:
            return ""
        if "\t" in self.columns[0]:
            return "; the header is tab-separated: set data.format: tsv"
        if any(sep in self.columns[0] for sep in ";|,"):
            return "; the header is one column holding separators: save the file as comma-separated CSV"
        return ""
