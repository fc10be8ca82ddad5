"""The data layer: load (CSV/TSV/JSONL/Parquet, any encoding) → validate → clean (dedup, PII) → split → report.

Token classification reads CoNLL or span JSONL into TaggedTexts instead (`prepare_tagged_data`).

>>> from tuneforge.data import prepare_data
>>> data = prepare_data(cfg.data, max_length=128, max_tokens=cfg.max_tokens)  # doctest: +SKIP
>>> print(data.report.to_markdown())  # doctest: +SKIP
"""

from tuneforge.data.dedup import ConflictGroup
from tuneforge.data.pii import redact
from tuneforge.data.prepare import PreparedData, prepare_data, write_rejected
from tuneforge.data.prepare_ner import prepare_tagged_data, read_tagged
from tuneforge.data.read import read_table
from tuneforge.data.report import DataReport, FileSummary, SplitStats
from tuneforge.data.rows import Example, Row, RowError, Table
from tuneforge.data.tags import TaggedText, split_words

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
    "TaggedText",
    "prepare_data",
    "prepare_tagged_data",
    "read_table",
    "read_tagged",
    "redact",
    "split_words",
    "write_rejected",
]
