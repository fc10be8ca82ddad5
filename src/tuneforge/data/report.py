"""DataReport: what was read, what was dropped and why, and what the splits look like.

One list of tables feeds both the Markdown file of a run directory and the terminal view, so they never differ.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tuneforge.data.dedup import ConflictGroup, NearDuplicateGroup
from tuneforge.data.rows import Example, RowError

__all__ = ["DataReport", "FileSummary", "SplitStats", "imbalance_warning"]

_PERCENTILES = {"p50": 50, "p90": 90, "p99": 99}
_MAX_RATIO = 10  # largest / smallest class above this skews training
_MIN_CLASS = 5  # fewer training rows than this cannot be learnt, nor measured
_SHOWN_ERRORS = 50  # row errors listed in the Markdown and terminal views; to_dict() has them all
_SHOWN_TEXT = 60  # characters of a text shown in a table cell


@dataclass
class SplitStats:
    rows: int
    class_counts: dict[str, int]
    chars: dict[str, int]  # p50, p90, p99, max of text length in characters
    tokens: dict[str, int] | None = None  # the same in tokens, when a tokenizer was given
    truncated: float | None = None  # share of texts longer than max_length tokens, which training truncates
    windowed: int | None = None  # NER instead: sentences longer than max_length, split into windows (never cut)

    @classmethod
    def of(cls, examples: list[Example], tokens: dict[tuple[str, int], int] | None, max_length: int) -> SplitStats:
        counts = dict(sorted(Counter(e.label for e in examples).items()))
        lengths = [tokens[e.source, e.line] for e in examples] if tokens is not None else None
        return cls.of_lengths(counts, [len(e.text) for e in examples], lengths, max_length)

    @classmethod
    def of_lengths(
        cls,
        class_counts: dict[str, int],
        chars: list[int],
        tokens: list[int] | None,
        max_length: int,
        *,
        windows: bool = False,
    ) -> SplitStats:
        """Stats of a split from its class counts and the length of each text in characters and tokens; with
        `windows`, long texts are counted as split into windows rather than as a truncated share."""
        stats = cls(len(chars), class_counts, _lengths(chars))
        if tokens:
            stats.tokens = _lengths(tokens)
            long = sum(n > max_length for n in tokens)
            if windows:
                stats.windowed = long
            else:
                stats.truncated = long / len(tokens)
        return stats


def _lengths(values: list[int]) -> dict[str, int]:
    if not values:
        return {}
    ordered = sorted(values)
    # The smallest length at or above the percentile: always a length that occurs, as numpy's method="higher".
    found = {name: ordered[math.ceil(q / 100 * (len(ordered) - 1))] for name, q in _PERCENTILES.items()}
    return {**found, "max": ordered[-1]}


@dataclass
class FileSummary:
    split: str
    source: str
    format: str
    encoding: str
    rows: int  # records read, header and blank lines excluded
    rejected: int


def imbalance_warning(train_counts: dict[str, int], labels: list[str]) -> str | None:
    """A warning when classes are far apart in size or one has too few rows to learn from."""
    counts = {label: train_counts.get(label, 0) for label in labels}
    if not counts:
        return None
    problems = [f"'{label}' has only {n} training row(s)" for label, n in counts.items() if n < _MIN_CLASS]
    largest, smallest = max(counts, key=counts.__getitem__), min(counts, key=counts.__getitem__)
    if counts[smallest] and counts[largest] / counts[smallest] > _MAX_RATIO:
        problems.append(
            f"'{largest}' has {counts[largest]} training rows, {counts[largest] / counts[smallest]:.0f}"
            f" times as many as '{smallest}' ({counts[smallest]})"
        )
    if not problems:
        return None
    return f"imbalanced classes: {'; '.join(problems)}; consider train.class_weights: balanced, or more data"


@dataclass
class DataReport:
    """Everything prepare_data learned about the data; saved with every run as JSON and Markdown.

    `to_dict()` is JSON-serialisable and complete; `to_markdown()` and `render()` show the same tables.
    """

    files: list[FileSummary]
    splits: dict[str, SplitStats]
    labels: list[str]
    dropped: dict[str, int]  # rows per reason: rejected, exact/normalised/conflicting duplicates, leakage
    errors_by_kind: dict[str, int]  # row problems per kind; a rejected row may have several
    pii: dict[str, int]  # placeholders inserted per type
    conflict_groups: int
    conflicts: list[ConflictGroup]  # the first few groups, as examples
    leakage: dict[str, int]  # normalised texts shared per pair of splits, e.g. "train/test"
    imbalance: str | None
    errors: list[RowError]
    warnings: list[str]
    classes_title: str = "Classes"  # NER counts entities per type instead
    shared_texts: dict[str, list[str]] = field(default_factory=dict)  # pair of splits -> a few texts both have
    kept_duplicates: dict[str, int] = field(default_factory=dict)  # given validation/test: repeated rows, kept
    near_duplicate_groups: int = 0  # one-label groups of near-duplicates merged (clean.near_duplicates)
    near_duplicates: list[NearDuplicateGroup] = field(default_factory=list)  # the first few, as examples

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_markdown(self) -> str:
        parts = ["# Data report"]
        for title, headers, rows in self._tables():
            lines = [_md_row(headers), _md_row(["---"] * len(headers)), *(_md_row(row) for row in rows)]
            parts.append(f"## {title}\n\n" + "\n".join(lines))
        if self.warnings:
            parts.append("## Warnings\n\n" + "\n".join(f"- {w}" for w in self.warnings))
        return "\n\n".join(parts) + "\n"

    def render(self) -> Any:
        """A rich renderable of the same tables, for `Console().print(report.render())`."""
        from rich.console import Group  # imported here: only the terminal view needs rich
        from rich.table import Table
        from rich.text import Text

        items: list[Any] = []
        for title, headers, rows in self._tables():
            table = Table(*headers, title=title, title_justify="left")
            for row in rows:
                table.add_row(*map(Text, row))  # Text: "[PHONE]" in a cell is data, not rich markup
            items.append(table)
        items += [Text(f"warning: {w}", style="yellow") for w in self.warnings]
        return Group(*items)

    def _tables(self) -> list[tuple[str, list[str], list[list[str]]]]:
        names = list(self.splits)
        windowed = any(s.windowed is not None for s in self.splits.values())
        tables = [
            (
                "Files",
                ["split", "file", "format", "encoding", "rows", "rejected"],
                [[f.split, f.source, f.format, f.encoding, f"{f.rows:,}", f"{f.rejected:,}"] for f in self.files],
            ),
            (
                "Splits",
                [
                    "split",
                    "rows",
                    "chars p50/p90/p99/max",
                    "tokens p50/p90/p99/max",
                    "split into windows" if windowed else "truncated",
                ],
                [_split_row(name, s) for name, s in self.splits.items()],
            ),
            (
                self.classes_title,
                ["label", *names],
                [
                    [label, *(str(self.splits[n].class_counts.get(label, 0)) for n in names)]
                    for label in self._labels()
                ],
            ),
            ("Dropped rows", ["reason", "rows"], _counts(self.dropped)),
            ("Row problems by kind", ["kind", "count"], _counts(self.errors_by_kind)),
            ("PII redacted", ["type", "count"], _counts(self.pii)),
            (
                "Texts shared between splits",
                ["splits", "texts", "examples"],
                [[*row, _short("; ".join(self.shared_texts.get(row[0], [])))] for row in _counts(self.leakage)],
            ),
            ("Duplicates kept in given files", ["split", "rows"], _counts(self.kept_duplicates)),
            (
                f"Conflicting labels ({self.conflict_groups} groups, first {len(self.conflicts)} shown)",
                ["file", "lines", "labels", "kept", "text"],
                [_conflict_row(c) for c in self.conflicts],
            ),
            (
                f"Near-duplicates merged ({self.near_duplicate_groups} groups, first {len(self.near_duplicates)} "
                "shown)",
                ["file", "lines", "label", "texts (the first kept)"],
                [_near_row(g) for g in self.near_duplicates],
            ),
            (
                f"Row errors ({len(self.errors)}, first {min(len(self.errors), _SHOWN_ERRORS)} shown)",
                ["file", "line", "field", "problem"],
                [[e.source, str(e.line), e.field, e.problem] for e in self.errors[:_SHOWN_ERRORS]],
            ),
        ]
        return [table for table in tables if table[2]]

    def _labels(self) -> list[str]:
        seen = {label for s in self.splits.values() for label in s.class_counts}
        return self.labels + sorted(seen - set(self.labels))


def _split_row(name: str, stats: SplitStats) -> list[str]:
    def joined(lengths: dict[str, int] | None) -> str:
        return "/".join(f"{v:,}" for v in lengths.values()) if lengths else "-"

    if stats.windowed is not None:
        long = f"{stats.windowed:,}"
    else:
        long = "-" if stats.truncated is None else f"{stats.truncated:.1%}"
    return [name, f"{stats.rows:,}", joined(stats.chars), joined(stats.tokens), long]


def _conflict_row(group: ConflictGroup) -> list[str]:
    labels = ", ".join(f"{label}: {n}" for label, n in group.labels.items())
    lines = _short(", ".join(map(str, group.lines)))
    return [group.source, lines, labels, group.kept or "none (tie)", _short(" ≈ ".join([group.text, *group.variants]))]


def _near_row(group: NearDuplicateGroup) -> list[str]:
    return [group.source, _short(", ".join(map(str, group.lines))), group.label, _short(" ≈ ".join(group.texts))]


def _counts(counts: dict[str, int]) -> list[list[str]]:
    return [[key, f"{value:,}"] for key, value in counts.items() if value]


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN_TEXT else text[: _SHOWN_TEXT - 1] + "…"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
