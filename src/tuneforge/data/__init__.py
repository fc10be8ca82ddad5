"""The data layer: load (CSV/TSV/JSONL/Parquet, any encoding) → validate → clean (dedup, PII) → split → report.

Each task reads its own examples from these (token classification: tasks/token_classification/prepare.py).

>>> from tuneforge.data import prepare_data
>>> data = prepare_data(cfg.data, max_length=128, max_tokens=cfg.max_tokens)  # doctest: +SKIP
>>> print(data.report.to_markdown())  # doctest: +SKIP
"""

from tuneforge.data.dedup import ConflictGroup
from tuneforge.data.pii import redact
from tuneforge.data.prepare import PreparedData, prepare_data, write_rejected
from tuneforge.data.read import read_table
from tuneforge.data.report import DataReport, FileSummary, SplitStats
from tuneforge.data.rows import Example, Row, RowError, Table

__all__ = [
    "ConflictGroup",
    "DataReport",
    "Example",
    "FileSummary",
    "PreparedData",
    "Row",
    "RowError",
    "SplitStats",
    "Table",
    "prepare_data",
    "read_table",
    "redact",
    "write_rejected",
]
