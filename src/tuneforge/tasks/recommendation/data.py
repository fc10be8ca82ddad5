"""Read and validate the item texts and the interactions; every bad row is named by file, line and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tuneforge.config.recommend import RecommendConfig
from tuneforge.data import Row, RowError, read_table
from tuneforge.errors import DataError

__all__ = ["Catalogue", "Interactions", "parse_time", "read_catalogue", "read_interactions"]


@dataclass
class Catalogue:
    """All items, in file order; an item's index here is its index in every score vector."""

    ids: list[str]
    texts: list[str]
    titles: list[str]
    rejected: list[RowError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.index = {item: i for i, item in enumerate(self.ids)}


@dataclass
class Interactions:
    """One row per (user, item) first interaction, sorted by user then time (file order breaks ties)."""

    users: list[str]  # user id of each row
    items: np.ndarray  # catalogue index of each row
    times: np.ndarray  # Unix seconds of each row
    rows_read: int
    duplicates_dropped: int
    below_min_rating: int
    rejected: list[RowError] = field(default_factory=list)


def _fail_or_keep(problems: list[RowError], source: str, what: str, on_error: str) -> None:
    if problems and on_error == "fail":
        raise DataError(
            f"{source}: {len(problems)} bad {what}(s); fix them or set data.on_error: skip",
            [str(p) for p in problems],
        )


def read_catalogue(cfg: RecommendConfig, encoding: str, on_error: str) -> Catalogue:
    """Items keyed by `item_column`; duplicate ids and rows without any text are errors."""
    table = read_table(cfg.items, encoding=encoding)
    keys = {"recommend.item_column": cfg.item_column, "recommend.title_column": cfg.title_column}
    table.require(keys | {f"recommend.text_columns[{i}]": c for i, c in enumerate(cfg.text_columns)})
    ids: list[str] = []
    texts: list[str] = []
    titles: list[str] = []
    first_line: dict[str, int] = {}
    problems: list[RowError] = []
    for row in table.rows:
        if row.values is None:
            problems.append(RowError(table.source, row.line, "row", row.error or "unparsable", row.raw))
            continue
        item = str(row.values.get(cfg.item_column) or "").strip()
        text = ". ".join(str(row.values.get(c) or "").strip() for c in cfg.text_columns if row.values.get(c))
        if not item:
            problems.append(RowError(table.source, row.line, cfg.item_column, "empty item id", row.raw))
        elif item in first_line:
            problem = f"duplicate item id '{item}' (first on line {first_line[item]})"
            problems.append(RowError(table.source, row.line, cfg.item_column, problem, row.raw))
        elif not text.strip(". "):
            problem = f"no text: every one of {', '.join(cfg.text_columns)} is empty"
            problems.append(RowError(table.source, row.line, "text", problem, row.raw))
        else:
            first_line[item] = row.line
            ids.append(item)
            texts.append(text)
            titles.append(str(row.values.get(cfg.title_column) or item))
    _fail_or_keep(problems, table.source, "item row", on_error)
    if not ids:
        raise DataError(f"{table.source}: no valid item rows")
    return Catalogue(ids, texts, titles, problems)


def parse_time(value: object) -> float | None:
    """Unix seconds, or an ISO 8601 date or date-time (naive ones read as UTC); None when neither."""
    text = str(value if value is not None else "").strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else moment.replace(tzinfo=UTC).timestamp()


def _check_row(row: Row, cfg: RecommendConfig, catalogue: Catalogue, source: str) -> tuple[list[RowError], tuple]:
    values = row.values or {}
    problems: list[RowError] = []

    def bad(field_name: str, problem: str) -> None:
        problems.append(RowError(source, row.line, field_name, problem, row.raw))

    user = str(values.get(cfg.user_column) or "").strip()
    item = str(values.get(cfg.item_column) or "").strip()
    when = parse_time(values.get(cfg.timestamp_column))
    rating = None
    if not user:
        bad(cfg.user_column, "empty user id")
    if item not in catalogue.index:
        bad(cfg.item_column, f"unknown item id '{item}': not in {cfg.items}" if item else "empty item id")
    if when is None:
        found = values.get(cfg.timestamp_column)
        bad(cfg.timestamp_column, f"expected Unix seconds or an ISO 8601 date-time, got {found!r}")
    if cfg.rating_column:
        try:
            rating = float(str(values.get(cfg.rating_column)).strip())
        except ValueError:
            bad(cfg.rating_column, f"expected a number, got {values.get(cfg.rating_column)!r}")
    return problems, (user, catalogue.index.get(item, -1), when, rating)


def read_interactions(
    path: Path, cfg: RecommendConfig, catalogue: Catalogue, encoding: str, on_error: str
) -> Interactions:
    """Interactions of known items with valid times; a (user, item) pair keeps its first interaction only."""
    table = read_table(path, encoding=encoding)
    keys = {
        "recommend.user_column": cfg.user_column,
        "recommend.item_column": cfg.item_column,
        "recommend.timestamp_column": cfg.timestamp_column,
    }
    table.require(keys | ({"recommend.rating_column": cfg.rating_column} if cfg.rating_column else {}))
    problems: list[RowError] = []
    kept: list[tuple[str, int, float, int]] = []
    below = 0
    for order, row in enumerate(table.rows):
        if row.values is None:
            problems.append(RowError(table.source, row.line, "row", row.error or "unparsable", row.raw))
            continue
        row_problems, (user, item, when, rating) = _check_row(row, cfg, catalogue, table.source)
        if row_problems:
            problems.extend(row_problems)
        elif cfg.min_rating is not None and rating is not None and rating < cfg.min_rating:
            below += 1
        else:
            kept.append((user, item, when, order))
    _fail_or_keep(problems, table.source, "interaction row", on_error)
    kept.sort(key=lambda r: (r[0], r[2], r[3]))
    seen: set[tuple[str, int]] = set()
    unique = [r for r in kept if (r[0], r[1]) not in seen and not seen.add((r[0], r[1]))]
    if not unique:
        raise DataError(f"{table.source}: no valid interactions left")
    return Interactions(
        users=[r[0] for r in unique],
        items=np.array([r[1] for r in unique], dtype=np.int64),
        times=np.array([r[2] for r in unique], dtype=np.float64),
        rows_read=len(table.rows),
        duplicates_dropped=len(kept) - len(unique),
        below_min_rating=below,
        rejected=problems,
    )
