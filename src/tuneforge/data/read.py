"""Read CSV, TSV, JSONL and Parquet files into a Table of rows, each tied to the line where it starts.

Rows that cannot be parsed are kept with an error rather than raised, so that every bad row of a file can be
reported at once. Whole-file problems (missing, empty, undecodable) raise a DataError.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from tuneforge.data.encoding import decode
from tuneforge.data.rows import Row, Table
from tuneforge.errors import DataError

__all__ = ["FORMATS", "PHYSICAL_LINE", "detect_format", "json_type", "read_bytes", "read_table", "strip_eol"]

FORMATS = ("csv", "tsv", "jsonl", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Physical lines as the csv module counts them: split on \r\n, \n or \r only. str.splitlines() also splits on
# \x0b, \x1c, \u2028 and others, which occur inside Excel cells and would shift every line number after them.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def detect_format(path: Path, fmt: str = "auto") -> str:
    """The format named by `fmt`, or the one the file suffix implies when `fmt` is "auto"."""
    if fmt != "auto":
        if fmt not in FORMATS:
            raise DataError(f"{path}: unknown format '{fmt}'; data.format must be one of auto, {', '.join(FORMATS)}")
        return fmt
    if found := _SUFFIXES.get(path.suffix.lower()):
        return found
    raise DataError(
        f"{path}: cannot tell the format from the suffix '{path.suffix}'; set data.format to one of "
        f"{', '.join(FORMATS)}"
    )


def read_table(path: Path, fmt: str = "auto", encoding: str = "auto") -> Table:
    """Read a data file into a Table; `encoding` is ignored for Parquet.

    >>> table = read_table(Path("data/train.csv"))  # doctest: +SKIP
    >>> table.columns, table.rows[0].line  # doctest: +SKIP
    (['text', 'label'], 2)
    """
    path = Path(path)
    source = str(path)
    fmt = detect_format(path, fmt)
    data = read_bytes(path)
    if fmt == "parquet":
        columns, rows = _read_parquet(data, source)
        _require_rows(rows, source)
        return Table(source, columns, rows, fmt, encoding="parquet")
    if not data.strip():
        raise DataError(f"{source}: the file is empty")
    decoded = decode(data, source, encoding)
    if fmt == "jsonl":
        columns, rows = _read_jsonl(decoded.text, source)
    else:
        columns, rows = _read_delimited(decoded.text, source, tsv=fmt == "tsv")
    _require_rows(rows, source)
    notes = [f"{source}: encoding guessed as {decoded.encoding}; set data.encoding if the text looks garbled"]
    return Table(source, columns, rows, fmt, decoded.encoding, notes if decoded.guessed else [])


def _require_rows(rows: list[Row], source: str) -> None:
    # Later stages count tokens and split rows and assume at least one; a file without one is a whole-file error.
    if not rows:
        raise DataError(f"{source}: no rows; the file holds only a header (or only column names)")
    if all(row.values is None for row in rows):
        raise DataError(f"{source}: no row could be read", [f"{source}:{row.line}: {row.error}" for row in rows])


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


def strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith(("\r", "\n")) else line


def _read_delimited(text: str, source: str, *, tsv: bool) -> tuple[list[str], list[Row]]:
    lines = PHYSICAL_LINE.findall(text)
    # TSV as in GLUE/SST-2: quotes are ordinary characters, so a record is exactly one line.
    dialect: dict[str, Any] = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if tsv else {"delimiter": ","}
    reader = csv.reader(iter(lines), **dialect)
    header: list[str] | None = None
    rows: list[Row] = []
    end = 0
    while True:
        start = end + 1
        try:
            fields: list[str] | None = next(reader)
            error = None
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over csv's size limit; the reader recovers on the next record
            fields, error = None, f"unparsable row: {exc}"
        end = reader.line_num
        raw = strip_eol("".join(lines[start - 1 : end]))
        if not raw.strip():
            continue
        if header is None:
            if fields is None:
                raise DataError(f"{source}:{start}: cannot read the header: {error}")
            header = [name.replace("\ufeff", "").strip() for name in fields]
            _refuse_duplicates(header, f"{source}:{start}")
        elif fields is None:
            rows.append(Row(start, None, raw, error))
        else:
            rows.append(_record(header, fields, start, end, raw))
    if header is None:
        raise DataError(f"{source}: the file is empty")
    return header, rows


def _refuse_duplicates(columns: list[str], where: str) -> None:
    # Rows become dicts keyed by column name, so a repeated name would silently keep only its last column
    # (`text,label,text` trains on the wrong text). Unnamed columns are left alone: no config key can select them.
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    if repeated:
        raise DataError(
            f"{where}: the header names column(s) {', '.join(repeated)} more than once; give every column its own name"
        )


def _record(header: list[str], fields: list[str], start: int, end: int, raw: str) -> Row:
    if len(fields) == len(header):
        return Row(start, dict(zip(header, fields, strict=True)), raw)
    error = f"unparsable row: expected {len(header)} fields, found {len(fields)}"
    if end > start:  # an unclosed quote swallows the lines after it into one record
        error += f" (the record runs over lines {start}-{end}: is a quote left open?)"
    return Row(start, None, raw, error)


def _read_jsonl(text: str, source: str) -> tuple[list[str], list[Row]]:
    _reject_json_array(text, source)
    columns: dict[str, None] = {}  # ordered set: keys in order of first appearance
    rows: list[Row] = []
    for number, line in enumerate(PHYSICAL_LINE.findall(text), start=1):
        raw = strip_eol(line)
        if not raw.strip():
            continue
        try:
            value = json.loads(raw, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            rows.append(Row(number, None, raw, f"unparsable row: invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        except (ValueError, RecursionError) as exc:  # a repeated key, a 5,000-digit number, arrays 1,000 deep
            problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:160]
            rows.append(Row(number, None, raw, f"unparsable row: {problem}"))
            continue
        if _has_lone_surrogate(value):
            # JSON may escape half of a UTF-16 pair (`"\ud800"`): no tokenizer or UTF-8 writer accepts the result.
            problem = r"unparsable row: a string holds a lone surrogate escape (\ud800-\udfff)"
            rows.append(Row(number, None, raw, problem))
            continue
        if not isinstance(value, dict):
            rows.append(Row(number, None, raw, f"unparsable row: expected a JSON object, found {json_type(value)}"))
            continue
        columns.update(dict.fromkeys(value))
        rows.append(Row(number, value, raw))
    return list(columns), rows


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of repeated keys, so `{"text": "a", "text": "b"}` would silently train on "b" (as a
    # repeated CSV header would); a repeated key is a row error instead.
    value = dict(pairs)
    if len(value) < len(pairs):
        repeated = sorted({key for key, _ in pairs if [k for k, _ in pairs].count(key) > 1})
        raise ValueError(f"the object names key(s) {', '.join(repeated)} more than once")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _reject_json_array(text: str, source: str) -> None:
    # A .json file holding one array would otherwise give an "invalid JSON" error on every line.
    if not text.lstrip().startswith("["):
        return
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        return
    if isinstance(whole, list):
        raise DataError(
            f"{source}: the file is one JSON array; expected JSON Lines, one object per line "
            "(convert it with: jq -c '.[]' FILE.json > FILE.jsonl)"
        )


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages: "an array", "a number", ..."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _read_parquet(data: bytes, source: str) -> tuple[list[str], list[Row]]:
    import pyarrow as pa  # imported here: heavy, and only Parquet files need it
    import pyarrow.parquet as pq

    try:
        # The names first: pyarrow fails to read a file with a repeated column name with a message about FieldRefs.
        schema = pq.read_schema(pa.BufferReader(data))
        _refuse_duplicates(schema.names, f"{source}:1")
        _refuse_nested(schema, source)
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"{source}: not a readable Parquet file ({exc}); set data.format if the suffix is wrong"
        ) from None
    # Parquet has no text lines: row i is "line" i + 2, as if the column names were a header line.
    rows = [
        Row(index + 2, record, json.dumps(record, ensure_ascii=False, default=str))
        for index, record in enumerate(table.to_pylist())
    ]
    return table.column_names, rows


def _refuse_nested(schema: Any, source: str) -> None:
    # Every task reads a cell as text or a number; a list or struct cell would reach the tokenizer as a Python list.
    import pyarrow as pa

    nested = [item.name for item in schema if pa.types.is_nested(item.type)]
    if nested:
        raise DataError(
            f"{source}: column '{nested[0]}' holds lists/structs; expected text or numbers"
            + (f" (so do {', '.join(repr(n) for n in nested[1:])})" if nested[1:] else "")
        )
