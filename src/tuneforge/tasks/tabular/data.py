"""Read and validate a table for training or prediction, with the data layer's reader, row errors and report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tuneforge.config import Config
from tuneforge.config.tabular import TabularConfig
from tuneforge.data.read import read_table
from tuneforge.data.report import DataReport, FileSummary, SplitStats, imbalance_warning
from tuneforge.data.rows import RowError, Table
from tuneforge.errors import ConfigError, DataError
from tuneforge.tasks.tabular.schema import ParsedRows, Schema, infer_schema, parse_rows

__all__ = ["TrainingData", "check_tabular_config", "load_training", "read_rows"]


@dataclass
class TrainingData:
    schema: Schema
    parsed: ParsedRows
    report: DataReport


def check_tabular_config(cfg: Config) -> TabularConfig:
    """The tabular block, or its defaults (the task's rules in tasks/tabular/__init__.py checked the rest)."""
    return cfg.tabular or TabularConfig()


def read_rows(path: Path, cfg: Config, schema: Schema, *, labelled: bool, training: bool) -> tuple[Table, ParsedRows]:
    """Read a file against `schema`; every missing column is named at once."""
    table = read_table(path, cfg.data.format, cfg.data.encoding)
    needed = {f"tabular feature '{name}'": name for name in schema.names}
    if labelled:
        needed["data.label_column"] = schema.target
    table.require(needed)
    tabular = cfg.tabular or TabularConfig()
    return table, parse_rows(table.rows, table.source, schema, tabular, labelled=labelled, training=training)


def load_training(cfg: Config) -> TrainingData:
    """Infer the schema of data.train, read every row against it, and raise or drop bad rows per data.on_error."""
    tabular = check_tabular_config(cfg)
    table = read_table(cfg.data.train, cfg.data.format, cfg.data.encoding)
    table.require({"data.label_column": cfg.data.label_column})
    if unknown := sorted((set(tabular.columns) | set(tabular.exclude)) - set(table.columns)):
        raise ConfigError(
            f"tabular.columns / tabular.exclude name columns not in {table.source}: {', '.join(unknown)}"
        )
    schema = infer_schema(table.rows, table.columns, cfg.data.label_column, tabular, table.source)
    parsed = parse_rows(table.rows, table.source, schema, tabular, labelled=True, training=True)
    if parsed.errors and cfg.data.on_error == "fail":
        rows = len({e.line for e in parsed.errors})
        raise DataError(
            f"{rows:,} bad rows in {table.source}; fix them, or set data.on_error: skip to drop them and save them",
            [str(e) for e in parsed.errors],
        )
    counts = Counter(int(v) for v in parsed.labels) if parsed.labels is not None else Counter()
    too_small = [schema.classes[k] for k in (0, 1) if counts[k] < tabular.folds]
    if too_small:
        raise DataError(
            f"{table.source}: class '{too_small[0]}' has {counts[schema.classes.index(too_small[0])]} good row(s), "
            f"too few for tabular.folds: {tabular.folds}"
        )
    return TrainingData(schema, parsed, _report(table, schema, parsed))


def _report(table: Table, schema: Schema, parsed: ParsedRows) -> DataReport:
    assert parsed.labels is not None
    class_counts = {schema.classes[k]: int((parsed.labels == k).sum()) for k in (0, 1)}
    imbalance = imbalance_warning(class_counts, schema.classes)
    errors: list[RowError] = parsed.errors
    rejected = len({e.line for e in errors})
    return DataReport(
        files=[FileSummary("train", table.source, table.format, table.encoding, len(table.rows), rejected)],
        # Text lengths are those of the rows as columns of text; no tokenizer is involved here.
        splits={"train": SplitStats.of_lengths(class_counts, [len(r.raw) for r in table.rows if r.values], None, 0)},
        labels=schema.classes,
        dropped={"rejected": rejected},
        errors_by_kind=dict(Counter(e.kind for e in errors)),
        pii={},
        conflict_groups=0,
        conflicts=[],
        leakage={},
        imbalance=imbalance,
        errors=errors,
        warnings=list(table.warnings) + ([imbalance] if imbalance else []),
    )
