"""prepare_data: read → validate → clean → split → report, one call per stage."""

from __future__ import annotations

import csv
import dataclasses
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tuneforge.config import CleanConfig, DataConfig
from tuneforge.data.dedup import Dedup, dedup, holding_splits, remove_leakage, shared_texts
from tuneforge.data.pii import redact
from tuneforge.data.read import read_table
from tuneforge.data.report import DataReport, FileSummary, SplitStats, imbalance_warning
from tuneforge.data.rows import Example, RowError, Table
from tuneforge.data.split import split_off
from tuneforge.data.validate import CheckedTable, TokenCounter, check_table, label_spelling_warnings
from tuneforge.errors import DataError

__all__ = ["PreparedData", "prepare_data", "read_splits", "refuse_bad_rows", "write_rejected"]

_SPLITS = ("train", "validation", "test")
T = TypeVar("T")
_SHOWN_CONFLICTS = 5  # conflict groups kept in the report as examples
_SHOWN_NEAR = 5  # near-duplicate groups kept in the report as examples
_SHOWN_SHARED = 3  # texts shown per pair of splits that share some


@dataclass
class PreparedData:
    # The task's own examples: Examples for text classification, a task's own kind for the others (NER: words
    # and IOB2 tags, chats: conversations).
    train: list[Any]
    validation: list[Any]
    test: list[Any]
    labels: list[str]  # declared order if data.labels is set, else the sorted labels (NER: entity types) of train
    report: DataReport
    rejected: list[RowError]  # problems of the dropped rows (on_error: skip); a row may have several


def prepare_data(
    cfg: DataConfig, *, max_length: int, max_tokens: int, count_tokens: TokenCounter | None = None
) -> PreparedData:
    """Read, validate, clean and split the data files of `cfg`; raise DataError listing every bad row when
    `on_error` is "fail". `count_tokens` (texts -> token counts) enables the max_tokens check and token stats.

    >>> data = prepare_data(cfg.data, max_length=128, max_tokens=cfg.max_tokens)  # doctest: +SKIP
    >>> data.labels, len(data.train), data.report.dropped["rejected"]  # doctest: +SKIP
    (['account', 'refund'], 812, 3)
    """
    tables = _read_all(cfg)
    origin = "data.max_tokens" if cfg.max_tokens is not None else f"{max_tokens / max_length:g} x max_length"
    checked = {
        name: check_table(table, cfg, max_tokens=max_tokens, max_tokens_origin=origin, count_tokens=count_tokens)
        for name, table in tables.items()
    }
    errors = [error for result in checked.values() for error in result.errors]
    if cfg.on_error == "fail":
        refuse_bad_rows(errors, [t.source for t in tables.values()])
    # A given validation or test file is never changed (its scores are compared with published ones): only train,
    # and so the rows split off it, is deduplicated; leakage removal drops train rows only.
    cleaned = {
        name: _clean(result.examples, cfg.clean, deduplicate=name == "train") for name, result in checked.items()
    }
    given = {name: examples for name, (examples, _, _) in cleaned.items()}
    warnings = [note for table in tables.values() for note in table.warnings]
    kept_duplicates = _kept_duplicates(given, cfg, tables, warnings)
    splits = _split(given, cfg, warnings)
    near = cfg.clean.near_duplicates
    holders = holding_splits(splits, near)  # once for both: with near-duplicates on, it indexes the held-out texts
    shared = shared_texts(splits, _SHOWN_SHARED, holders)
    splits, leakage, leaked = remove_leakage(splits, holders)
    if not splits["train"]:
        raise DataError(
            f"{cfg.train}: no training rows left after validation and cleaning ({len(errors):,} row problems)",
            [str(e) for e in errors],
        )
    labels = list(cfg.labels) if cfg.labels is not None else sorted({e.label for e in splits["train"]})
    warnings += _label_warnings(splits, labels)
    warnings += label_spelling_warnings(sorted({e.label for examples in splits.values() for e in examples}))
    warnings += _overlap_warnings(leakage, cfg)
    tokens = _tokens(tables, checked) if count_tokens is not None else None
    stats = {name: SplitStats.of(examples, tokens, max_length) for name, examples in splits.items()}
    imbalance = imbalance_warning(stats["train"].class_counts, labels)
    warnings += [imbalance] if imbalance else []
    dedups = [d for _, _, d in cleaned.values()]
    report = DataReport(
        files=[_summary(name, tables[name], checked[name]) for name in tables],
        splits=stats,
        labels=labels,
        dropped=_dropped(errors, dedups, leaked, near=near is not None),
        errors_by_kind=dict(Counter(e.kind for e in errors)),
        pii=dict(sum((pii for _, pii, _ in cleaned.values()), Counter())),
        conflict_groups=sum(len(d.conflicts) for d in dedups),
        conflicts=[c for d in dedups for c in d.conflicts][:_SHOWN_CONFLICTS],
        near_duplicate_groups=sum(len(d.near_groups) for d in dedups),
        near_duplicates=[g for d in dedups for g in d.near_groups][:_SHOWN_NEAR],
        leakage=leakage,
        shared_texts=shared,
        kept_duplicates=kept_duplicates,
        imbalance=imbalance,
        errors=errors,
        warnings=warnings,
    )
    return PreparedData(splits["train"], splits["validation"], splits["test"], labels, report, errors)


def _read_all(cfg: DataConfig) -> dict[str, Table]:
    """Read every file and check its columns, raising one DataError for all file-level problems."""
    columns = {"data.text_column": cfg.text_column, "data.label_column": cfg.label_column}

    def read(path: Path) -> Table:
        table = read_table(path, cfg.format, cfg.encoding)
        table.require(columns)
        return table

    return read_splits(cfg, read)


def read_splits(cfg: DataConfig, read: Callable[[Path], T]) -> dict[str, T]:
    """`read` applied to data.train and the validation and test files that are set; every file's problems are
    collected into one DataError."""
    paths = {"train": cfg.train, "validation": cfg.validation, "test": cfg.test}
    read_files: dict[str, T] = {}
    problems: list[str] = []
    for name, path in paths.items():
        if path is None:
            continue
        try:
            read_files[name] = read(path)
        except DataError as exc:
            problems += exc.problems or [str(exc)]
    if len(problems) == 1:
        raise DataError(problems[0])
    if problems:
        raise DataError(f"{len(problems)} problems in the data files", problems)
    return read_files


def _clean(
    examples: list[Example], cfg: CleanConfig, *, deduplicate: bool
) -> tuple[list[Example], Counter[str], Dedup]:
    pii: Counter[str] = Counter()
    if cfg.redact_pii:
        redacted = []
        for example in examples:
            text, found = redact(example.text)
            pii += found
            redacted.append(dataclasses.replace(example, text=text))
        examples = redacted
    if not (cfg.dedup and deduplicate):
        return examples, pii, Dedup()
    kept, stats = dedup(examples, cfg.near_duplicates)
    return kept, pii, stats


def _kept_duplicates(
    given: dict[str, list[Example]], cfg: DataConfig, tables: dict[str, Table], warnings: list[str]
) -> dict[str, int]:
    """Duplicate rows of the given validation and test files, counted and kept, with a warning per file."""
    if not cfg.clean.dedup:
        return {}
    counts = {}
    for name in _SPLITS[1:]:
        if name not in given:
            continue
        _, stats = dedup(given[name], cfg.clean.near_duplicates)
        if count := stats.exact + stats.normalised + stats.near + stats.conflicting:
            counts[name] = count
            warnings.append(
                f"{tables[name].source}: {count} row(s) of data.{name} repeat an earlier text of the file"
                f"{' or nearly' if stats.near else ''} "
                f"({stats.conflicting} with another label); all kept, since a given {name} file is never "
                "changed: remove them from the file if they are unintended"
            )
    return counts


def _overlap_warnings(leakage: dict[str, int], cfg: DataConfig) -> list[str]:
    """What to do about texts that a given validation or test file shares with another split."""
    warnings = []
    given = {"validation": cfg.validation, "test": cfg.test}
    if n := leakage.get("validation/test"):
        files = [f"data.{name} ({path})" for name, path in given.items() if path is not None]
        advice = {
            2: f"; both files are kept as given: remove the shared rows from one of {' and '.join(files)} if the "
            "scores must be independent",
            1: f"; {''.join(files)} is kept as given, the set split off train shares them",
        }.get(len(files), "")
        warnings.append(f"validation and test share {n} texts: their scores are not independent{advice}")
    for name, path in given.items():
        if path is not None and (n := leakage.get(f"train/{name}")):
            warnings.append(
                f"data.{name} ({path}) shares {n} texts with train: those train rows were dropped (a model is "
                f"scored on texts it has not seen), the {name} file is kept as given; remove them from one of the "
                "files to choose otherwise"
            )
    return warnings


def _split(given: dict[str, list[Example]], cfg: DataConfig, warnings: list[str]) -> dict[str, list[Example]]:
    """The given files, plus validation and test split off train where no file was given."""
    missing = [name for name in _SPLITS[1:] if name not in given]
    splits = dict(given)
    if missing:
        made, notes = split_off(given["train"], cfg.split, validation="validation" in missing, test="test" in missing)
        splits.update(made)
        warnings += notes
    return {name: splits.get(name, []) for name in _SPLITS}


def _label_warnings(splits: dict[str, list[Example]], labels: list[str]) -> list[str]:
    trained = {e.label for e in splits["train"]}
    warnings = []
    for name in _SPLITS[1:]:
        unseen = sorted({e.label for e in splits[name]} - trained)
        if unseen:
            warnings.append(f"{name} has labels never seen in train: {', '.join(unseen)}; the model cannot learn them")
    return warnings


def _tokens(tables: dict[str, Table], checked: dict[str, CheckedTable]) -> dict[tuple[str, int], int]:
    return {(tables[name].source, line): n for name, result in checked.items() for line, n in result.tokens.items()}


def _summary(name: str, table: Table, checked: CheckedTable) -> FileSummary:
    rejected = len({e.line for e in checked.errors})
    return FileSummary(name, table.source, table.format, table.encoding, len(table.rows), rejected)


def _dropped(errors: list[RowError], dedups: list[Dedup], leaked: int, *, near: bool) -> dict[str, int]:
    return {
        "rejected": len({(e.source, e.line) for e in errors}),
        "exact_duplicates": sum(d.exact for d in dedups),
        "normalised_duplicates": sum(d.normalised for d in dedups),
        # Only with clean.near_duplicates on, so that the reports of runs without it keep their keys.
        **({"near_duplicates": sum(d.near for d in dedups)} if near else {}),
        "conflicting_labels": sum(d.conflicting for d in dedups),
        "leakage": leaked,
    }


def refuse_bad_rows(errors: list[RowError], sources: list[str], *, unit: str = "rows", dropped: str = "them") -> None:
    """Under `on_error: fail`: one DataError listing every problem, when there is any."""
    if errors:
        rows = len({(e.source, e.line) for e in errors})
        raise DataError(
            f"{rows:,} bad {unit} in {', '.join(sources)}; fix them, or set "
            f"data.on_error: skip to drop {dropped} and save them to a file",
            [str(e) for e in errors],
        )


def write_rejected(path: Path, rejected: list[RowError]) -> None:
    """Write rejected rows as UTF-8 CSV (source, line, fields, problems, raw), one line per rejected row with
    its problems joined by "; ", atomically: readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["source", "line", "field", "problem", "raw"])
            by_row: dict[tuple[str, int], list[RowError]] = {}
            for error in rejected:
                by_row.setdefault((error.source, error.line), []).append(error)
            writer.writerows(
                [source, line, "; ".join(e.field for e in errors), "; ".join(e.problem for e in errors), errors[0].raw]
                for (source, line), errors in by_row.items()
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
