"""Where a round's new rows come from: the serve store's feedback on the served model (after the last row an
earlier round used), or a data file of labelled rows (new unless an earlier round used the same file)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneforge.continual.state import sha256
from tuneforge.errors import DataError

__all__ = ["Collected", "collect", "is_store", "shown_source"]


@dataclass(frozen=True)
class Collected:
    path: Path | None  # the rows written, in the task's format; None when there were none
    source: str  # the store's URL without credentials, or the file
    through: int | str | None  # the newest feedback row read (store) or the file's sha256: what the next round skips
    skipped: dict[str, int] = field(default_factory=dict)
    note: str = ""  # why nothing was collected


def is_store(source: str) -> bool:
    return "://" in source


def shown_source(url: str) -> str:
    """A database URL without its user and password (logs, lineage); a file path as it is."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if rest else url


def collect(
    source: str, out: Path, *, model: str, used: list[Any], since_last: bool, min_rating: int | None = None
) -> Collected:
    """The round's feedback in `out` (suffix: the task's format). `used`: what earlier rounds recorded as
    `through`; `min_rating`: chat answers rated at least this are rows too."""
    if not is_store(source):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"continual.feedback: {path} is not a file (nor a database URL like sqlite:///x.db)")
        digest = sha256(path)
        if since_last and digest in used:
            return Collected(None, str(path), digest, note=f"{path} was used by an earlier round")
        copy = out.with_suffix(path.suffix)
        shutil.copyfile(path, copy)
        return Collected(copy, str(path), digest)
    from tuneforge.serve.db import connect
    from tuneforge.serve.export import export_feedback

    after = max((u for u in used if isinstance(u, int)), default=None) if since_last else None
    try:
        exported = export_feedback(connect(source), out, model=model, after_id=after, min_rating=min_rating)
    except DataError as exc:  # no feedback yet, or none usable: a scheduled round has nothing to do
        return Collected(None, shown_source(source), after, note=str(exc))
    return Collected(out, shown_source(source), exported.last_feedback_id, dict(exported.skipped))
