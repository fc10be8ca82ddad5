"""The schema of a table (numeric or categorical per column, categories seen, fill values) and row parsing.

The schema is inferred from the training file, saved as `schema.json` in the run directory and used unchanged at
predict time, so a row is read the same way in training and in serving. Every bad cell becomes a RowError that
names the file, line and column.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from tuneforge.config.tabular import TabularConfig
from tuneforge.data.rows import Row, RowError
from tuneforge.errors import DataError

__all__ = ["UNKNOWN", "Column", "ParsedRows", "Schema", "infer_schema", "parse_rows"]

UNKNOWN = "<unknown>"  # stands for a category never seen in training (tabular.unknown_category: unknown)
_NUMERIC_SHARE = 0.9  # a column is numeric when this share of its filled cells are numbers; the rest are errors
_SHOWN_CATEGORIES = 10


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "numeric" or "categorical"
    fill: float | str  # what a missing cell becomes: the training median, or the most frequent category
    categories: list[str]  # categorical: every category seen in training, sorted


@dataclass(frozen=True)
class Schema:
    target: str
    classes: list[str]  # [negative, positive]; the positive class is the risk event that is scored
    columns: list[Column]

    @property
    def positive(self) -> str:
        return self.classes[1]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def of_kind(self, kind: str) -> list[Column]:
        return [c for c in self.columns if c.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Schema:
        return cls(raw["target"], raw["classes"], [Column(**c) for c in raw["columns"]])


@dataclass
class ParsedRows:
    frame: pd.DataFrame  # good rows only: numeric columns as float, categorical as str
    labels: np.ndarray | None  # 1 for the positive class, 0 for the negative; None when unlabelled
    lines: list[int]  # file line of each good row
    errors: list[RowError]


def _cell(values: dict[str, Any], name: str, missing: set[str]) -> Any:
    value = values.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        value = value.strip()
        return None if value in missing else value
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def infer_schema(rows: list[Row], columns: list[str], target: str, cfg: TabularConfig, source: str) -> Schema:
    """Infer each feature column's kind, categories and fill value from the readable rows of a training file."""
    good = [r.values for r in rows if r.values is not None]
    missing = set(cfg.missing_values)
    targets = Counter(str(v) for r in good if (v := _cell(r, target, missing)) is not None)
    if len(targets) != 2:
        found = ", ".join(f"'{k}' ({n})" for k, n in targets.most_common(_SHOWN_CATEGORIES)) or "none"
        raise DataError(
            f"{source}: column '{target}' must hold exactly 2 classes for tabular-classification; found {found}"
        )
    if cfg.positive_label is not None and cfg.positive_label not in targets:
        raise DataError(
            f"{source}: tabular.positive_label '{cfg.positive_label}' is not a class of column '{target}'; "
            f"classes are {', '.join(sorted(targets))}"
        )
    rarer = min(sorted(targets), key=targets.__getitem__)
    positive = cfg.positive_label or rarer
    classes = [next(c for c in sorted(targets) if c != positive), positive]
    features = [c for c in columns if c != target and c not in cfg.exclude]
    if not features:
        raise DataError(f"{source}: no feature columns left besides the target '{target}' and tabular.exclude")
    return Schema(target, classes, [_infer_column(name, good, missing, cfg, source) for name in features])


def _infer_column(name: str, rows: list[dict[str, Any]], missing: set[str], cfg: TabularConfig, source: str) -> Column:
    cells = [v for r in rows if (v := _cell(r, name, missing)) is not None]
    if not cells:
        raise DataError(f"{source}: column '{name}' is empty in every row; add it to tabular.exclude")
    numbers = [n for v in cells if (n := _number(v)) is not None]
    kind = cfg.columns.get(name) or ("numeric" if len(numbers) >= _NUMERIC_SHARE * len(cells) else "categorical")
    if kind == "numeric":
        if not numbers:
            raise DataError(f"{source}: column '{name}' is set numeric in tabular.columns but holds no numbers")
        return Column(name, kind, float(statistics.median(numbers)), [])
    counts = Counter(str(v) for v in cells)
    return Column(name, kind, counts.most_common(1)[0][0], sorted(counts))


def parse_rows(
    rows: list[Row], source: str, schema: Schema, cfg: TabularConfig, *, labelled: bool, training: bool
) -> ParsedRows:
    """Read rows against `schema`; `training` rows must use known categories (they defined them)."""
    missing = set(cfg.missing_values)
    records: list[dict[str, Any]] = []
    labels: list[int] = []
    lines: list[int] = []
    errors: list[RowError] = []
    for row in rows:
        if row.values is None:
            errors.append(RowError(source, row.line, "row", row.error or "unparsable row", row.raw, "unparsable row"))
            continue
        record, problems = _parse_record(row.values, schema, cfg, missing, training)
        if labelled:
            label = _cell(row.values, schema.target, missing)
            if label is None:
                problems.append((schema.target, "missing target value", "missing target"))
            elif str(label) not in schema.classes:
                expected = " or ".join(f"'{c}'" for c in schema.classes)
                problems.append((schema.target, f"unknown class '{label}'; expected {expected}", "unknown class"))
        if problems:
            errors += [RowError(source, row.line, field, problem, row.raw, kind) for field, problem, kind in problems]
            continue
        records.append(record)
        lines.append(row.line)
        if labelled:
            labels.append(int(str(label) == schema.positive))
    frame = pd.DataFrame(records, columns=schema.names)
    for column in schema.of_kind("numeric"):
        frame[column.name] = frame[column.name].astype(float)
    return ParsedRows(frame, np.array(labels, dtype=int) if labelled else None, lines, errors)


def _parse_record(
    values: dict[str, Any], schema: Schema, cfg: TabularConfig, missing: set[str], training: bool
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    record: dict[str, Any] = {}
    problems: list[tuple[str, str, str]] = []
    for column in schema.columns:
        cell = _cell(values, column.name, missing)
        if cell is None:
            if cfg.missing == "fail":
                problems.append((column.name, "missing value (tabular.missing: fail)", "missing value"))
            record[column.name] = column.fill
        elif column.kind == "numeric":
            number = _number(cell)
            if number is None:
                problems.append((column.name, f"expected a number, got {cell!r}", "not a number"))
            record[column.name] = number
        elif str(cell) in column.categories or training:
            record[column.name] = str(cell)
        elif cfg.unknown_category == "unknown":
            record[column.name] = UNKNOWN
        else:
            seen = ", ".join(column.categories[:_SHOWN_CATEGORIES]) + (
                ", ..." if len(column.categories) > _SHOWN_CATEGORIES else ""
            )
            problems.append(
                (column.name, f"unknown category {str(cell)!r}; seen in training: {seen}", "unknown category")
            )
    return record, problems
