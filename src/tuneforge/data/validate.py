"""Check every row of a table: parsable, a non-empty text, a known label, not far too long.

Each problem becomes a RowError naming the field; a row with several problems gives several errors but is
rejected once. Rows without problems become Examples with normalised text.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tuneforge.config import DataConfig
from tuneforge.data.normalize import normalize_text
from tuneforge.data.read import json_type
from tuneforge.data.rows import Example, Row, RowError, Table

__all__ = ["CheckedTable", "TokenCounter", "check_table", "label_spelling_warnings"]

TokenCounter = Callable[[list[str]], list[int]]
_SHOWN_LABELS = 10  # declared labels listed in an "unknown label" message
_BOOLEANS = {"true": 1.0, "false": 0.0}


@dataclass
class CheckedTable:
    examples: list[Example]
    errors: list[RowError]
    tokens: dict[int, int] = field(default_factory=dict)  # line -> token count, for rows with a text


@dataclass
class _Pending:
    row: Row
    text: str | None = None
    label: str | None = None
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (field, kind, message)


def check_table(
    table: Table,
    cfg: DataConfig,
    *,
    max_tokens: int,
    max_tokens_origin: str,
    count_tokens: TokenCounter | None = None,
) -> CheckedTable:
    """Validate all rows of `table`; tokens are counted in one batched call for the whole file.

    `max_tokens_origin` says where the limit comes from, for the message ("8 x max_length").
    """
    pending = [_check_row(row, cfg) for row in table.rows]
    tokens: dict[int, int] = {}
    if count_tokens is not None:
        with_text = [(p, p.text) for p in pending if p.text]
        counts = count_tokens([text for _, text in with_text])
        for (item, _), count in zip(with_text, counts, strict=True):
            tokens[item.row.line] = count
            if count > max_tokens:
                message = f"text has {count:,} tokens; max_tokens is {max_tokens:,} ({max_tokens_origin})"
                item.problems.append((cfg.text_column, "too many tokens", message))
    checked = CheckedTable([], [], tokens)
    for item in pending:
        for column, kind, message in item.problems:
            checked.errors.append(RowError(table.source, item.row.line, column, message, item.row.raw, kind))
        if not item.problems and item.text and item.label:
            checked.examples.append(Example(item.text, item.label, table.source, item.row.line))
    return checked


def _check_row(row: Row, cfg: DataConfig) -> _Pending:
    item = _Pending(row)
    if row.values is None:
        item.problems.append(("row", "unparsable row", row.error or "unparsable row"))
        return item
    text, problem = _as_str(row.values.get(cfg.text_column))
    text = normalize_text(text) if text is not None and cfg.clean.normalize else text
    item.text = text if text and text.strip() else None
    if problem or item.text is None:
        item.problems.append(_missing(cfg.text_column, "text", text, problem))
    label, problem = _as_str(row.values.get(cfg.label_column))
    # Labels get the same normalisation (a full-width "ｒｅｆｕｎｄ" is "refund"), or at least lose stray spaces.
    item.label = label if label is None else normalize_text(label) if cfg.clean.normalize else label.strip()
    if problem or not item.label:
        item.problems.append(_missing(cfg.label_column, "label", label, problem))
    elif cfg.labels is not None and item.label not in cfg.labels:
        item.problems.append((cfg.label_column, "unknown label", _unknown_label(item.label, cfg.labels)))
    return item


def _missing(column: str, what: str, value: str | None, problem: str | None) -> tuple[str, str, str]:
    if problem:
        return column, f"{what} of wrong type", f"{what} {problem}"
    kind = f"missing {what}" if value is None else f"empty {what}"
    return column, kind, kind


def _as_str(value: Any) -> tuple[str | None, str | None]:
    """The value as a string, or a problem. JSON and Parquet give numbers, booleans and nulls where CSV gives
    strings: labels 0/1 become "0"/"1", and 1.0 (an int column with nulls read as floats) becomes "1"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    if isinstance(value, (dict, list)):
        return None, f"must be a string, found {json_type(value)}"
    if isinstance(value, bool):
        return str(value).lower(), None
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None
    return str(value), None


def _unknown_label(label: str, declared: list[str]) -> str:
    shown = ", ".join(declared[:_SHOWN_LABELS]) + (", ..." if len(declared) > _SHOWN_LABELS else "")
    message = f"label '{label}' is not in the declared labels: {shown}"
    if close := difflib.get_close_matches(label, declared, n=1, cutoff=0.6):
        message += f" (did you mean '{close[0]}'?)"
    return message


def label_spelling_warnings(labels: list[str]) -> list[str]:
    """A warning per group of labels that are one number or boolean written differently ("1", "1.0", "True"):
    each spelling is a class of its own, which is rarely what was meant.

    >>> label_spelling_warnings(["0", "1", "1.0", "True"])  # doctest: +ELLIPSIS
    ["labels '1', '1.0', 'True' look like one value written differently, but are 3 classes; ..."]
    """
    groups: dict[float, list[str]] = {}
    for label in labels:
        if (value := _as_number(label)) is not None:
            groups.setdefault(value, []).append(label)
    return [
        f"labels {', '.join(map(repr, group))} look like one value written differently, but are {len(group)} "
        "classes; write them one way in the files (or declare data.labels) if they are one class"
        for group in groups.values()
        if len(group) > 1
    ]


def _as_number(label: str) -> float | None:
    if label.strip().lower() in _BOOLEANS:
        return _BOOLEANS[label.strip().lower()]
    try:
        value = float(label)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
