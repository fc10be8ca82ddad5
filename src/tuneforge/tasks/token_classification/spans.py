"""Read span JSONL: a `text` and its entities as character offsets, the shape annotation tools export.

Each entity may be written as any of
    {"start": 0, "end": 2, "label": "PER"}                         tuneforge, spaCy-style
    {"value": {"start": 0, "end": 2, "labels": ["PER"]}}           Label Studio results
    [0, 2, "PER"]                                                   doccano ("label": [[0, 2, "PER"]])
under the key `data.label_column` if present, else `entities`, else `label`. Spans must lie inside the text, not
overlap, and start and end on word boundaries (see `split_words`); each problem names the file and line.
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Any

from tuneforge.data.read import json_type, read_table
from tuneforge.data.rows import Row, RowError
from tuneforge.tasks.token_classification.conll import TaggedFile
from tuneforge.tasks.token_classification.tags import Entity, TaggedText, split_words, tags_of

__all__ = ["read_span_jsonl"]

_SPAN_KEYS = ("entities", "label")


def read_span_jsonl(
    path: Path, *, text_key: str, span_key: str, labels: list[str] | None, encoding: str = "auto"
) -> TaggedFile:
    table = read_table(path, "jsonl", encoding)
    result = TaggedFile(table.source, "jsonl", table.encoding, [], [], len(table.rows), "spans", table.warnings)
    keys = list(dict.fromkeys([span_key, *_SPAN_KEYS]))
    for row in table.rows:
        sentence, problems = _parse_row(row, text_key, keys, labels)
        field = next((k for k in keys if row.values and k in row.values), keys[0])
        for column, kind, message in problems:
            name = text_key if column == "text" else field if column == "spans" else column
            result.errors.append(RowError(table.source, row.line, name, message, row.raw, kind))
        if sentence is not None and not problems:
            result.sentences.append(TaggedText(sentence[0], sentence[1], sentence[2], table.source, row.line))
    return result


Problem = tuple[str, str, str]  # (field, kind, message)


def _parse_row(
    row: Row, text_key: str, keys: list[str], labels: list[str] | None
) -> tuple[tuple[str, tuple[tuple[int, int], ...], tuple[str, ...]] | None, list[Problem]]:
    if row.values is None:
        return None, [("row", "unparsable row", row.error or "unparsable row")]
    text = row.values.get(text_key)
    if not isinstance(text, str) or not text.strip():
        found = "missing" if text is None else "empty" if isinstance(text, str) else json_type(text)
        return None, [("text", "missing text", f"expected a non-empty string under '{text_key}', found {found}")]
    raw_spans = next((row.values[k] for k in keys if k in row.values), [])
    if not isinstance(raw_spans, list):
        return None, [("spans", "invalid spans", f"expected a list of entities, found {json_type(raw_spans)}")]
    offsets = split_words(text)
    entities, problems = [], []
    for position, item in enumerate(raw_spans, start=1):
        entity, problem = _entity(item, text, offsets, labels)
        if problem:
            problems.append(("spans", problem[0], f"entity {position}: {problem[1]}"))
        elif entity is not None:
            entities.append(entity)
    problems += _overlaps(entities, text, offsets)
    if problems:
        return None, problems
    return (text, tuple(offsets), tuple(tags_of(len(offsets), entities))), []


def _fields(item: Any) -> tuple[Any, Any, Any] | None:
    """(start, end, label) of any supported entity shape, or None."""
    if isinstance(item, list | tuple) and len(item) == 3:
        return item[0], item[1], item[2]
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("value"), dict):  # Label Studio
        item = item["value"]
    label = item.get("label", item.get("labels"))
    if isinstance(label, list) and len(label) == 1:
        label = label[0]
    if "start" not in item or "end" not in item:
        return None
    return item["start"], item["end"], label


def _entity(
    item: Any, text: str, offsets: list[tuple[int, int]], labels: list[str] | None
) -> tuple[Entity | None, tuple[str, str] | None]:
    fields = _fields(item)
    if fields is None:
        return None, ("invalid span", f"expected {{start, end, label}} or [start, end, label], found {item!r}")
    start, end, label = fields
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        return None, ("invalid span", f"start and end must be integers, found {start!r}, {end!r}")
    if not isinstance(label, str) or not label.strip():
        return None, ("invalid span", f"label must be one non-empty string, found {label!r}")
    if not 0 <= start < end <= len(text):
        return None, ("span out of range", f"span {start}-{end} is outside the text (0-{len(text)}) or empty")
    if labels is not None and label not in labels:
        return None, ("unknown tag", f"label '{label}' is not in data.labels ({', '.join(labels)})")
    # Annotation tools often include the spaces around a selection; they are not part of the entity.
    while text[start].isspace() and start < end - 1:
        start += 1
    while text[end - 1].isspace() and end > start + 1:
        end -= 1
    starts = [s for s, _ in offsets]
    first = bisect.bisect_left(starts, start)
    last = bisect.bisect_left([e for _, e in offsets], end)
    if first == len(offsets) or starts[first] != start or last == len(offsets) or offsets[last][1] != end:
        return None, (
            "span off word boundaries",
            f"span {start}-{end} {text[start:end]!r} ({label}) cuts a word; words: "
            f"{_words_near(text, offsets, start, end)}",
        )
    return Entity(first, last + 1, label.strip()), None


def _words_near(text: str, offsets: list[tuple[int, int]], start: int, end: int) -> str:
    near = [text[s:e] for s, e in offsets if e > start - 1 and s < end + 1]
    return " | ".join(near[:8])


def _overlaps(entities: list[Entity], text: str, offsets: list[tuple[int, int]]) -> list[Problem]:
    problems: list[Problem] = []
    ordered = sorted(entities, key=lambda e: (e.start, e.end))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            a = text[offsets[before.start][0] : offsets[before.end - 1][1]]
            b = text[offsets[after.start][0] : offsets[after.end - 1][1]]
            problems.append(
                ("spans", "overlapping spans", f"spans {a!r} ({before.label}) and {b!r} ({after.label}) overlap")
            )
    return problems
