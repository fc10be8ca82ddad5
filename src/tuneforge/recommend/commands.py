"""`tuneforge predict` and `tuneforge evaluate` for recommendation runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import get_console
from rich.table import Table as RichTable

from tuneforge.data import read_table
from tuneforge.errors import DataError
from tuneforge.recommend.data import read_interactions
from tuneforge.recommend.metrics import ranking_metrics
from tuneforge.recommend.saved import Recommender
from tuneforge.rundir import write_json, write_text

__all__ = ["evaluate_interactions", "predict_records", "recommend_file"]


def predict_records(run_dir: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Print the top-k items of each user or text query."""
    results = Recommender(run_dir).predict(records)
    for result in results:
        query = f"user {result['user']}" if "user" in result else result["text"]
        table = RichTable("#", "item", "title", "score", title=query)
        for rank, item in enumerate(result["items"], start=1):
            table.add_row(str(rank), item["item"], item["title"], f"{item['score']:.3f}")
        get_console().print(table)
    return results


def recommend_file(run_dir: Path, source: Path, output: Path, text_column: str | None) -> None:
    """Each row of `source` asks for a user (the run's user column) or a text (`text_column`, default text)."""
    from tuneforge.predict import write_records

    recommender = Recommender(run_dir)
    user_column = recommender.settings.user_column
    table = read_table(source)
    column = user_column if user_column in table.columns and not text_column else text_column or "text"
    if column not in table.columns:
        raise DataError(f"{source}: no column '{user_column}' or 'text'; columns are {', '.join(table.columns)}")
    if bad := [f"{source}:{row.line}: {row.error}" for row in table.rows if row.values is None]:
        raise DataError(f"{source}: {len(bad)} unreadable row(s)", bad)
    rows = [row.values for row in table.rows if row.values is not None]
    key = "user" if column == user_column else "text"
    try:
        results = recommender.predict([{key: row.get(column)} for row in rows])
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None
    records = [
        {**row, "recommendations": json.dumps(result["items"], ensure_ascii=False)}
        for row, result in zip(rows, results, strict=True)
    ]
    write_records(output, [*table.columns, "recommendations"], records)
    get_console().print(f"{len(records)} recommendation lists written to [bold]{output}[/]")


def evaluate_interactions(run_dir: Path, source: Path) -> dict[str, Any]:
    """Score later interactions of known users: each user's first new item, against every item not yet seen.

    Popularity, ALS and the LM recommender are scored on the same cases; bad rows are skipped and listed.
    """
    recommender = Recommender(run_dir)
    settings = recommender.settings
    encoding = recommender.config.data.encoding
    data = read_interactions(source, settings, recommender.catalogue, encoding, on_error="skip")
    cases, first_of = [], set()
    for user, item in zip(data.users, data.items.tolist(), strict=True):  # sorted by user, then time
        index = recommender.user_index.get(user)
        if index is None or user in first_of or item in recommender.histories[index]:
            continue
        first_of.add(user)
        cases.append((index, recommender.histories[index], item))
    if not cases:
        raise DataError(f"{source}: no new interaction of a user known to {run_dir}; nothing to evaluate")
    k = settings.k
    scorers = {"popularity": recommender.popularity, "mf": recommender.mf, "lm": recommender.tower}
    results = {name: ranking_metrics(scorer, cases, k) for name, scorer in scorers.items()}
    out = run_dir / "evaluations" / source.stem
    out.mkdir(parents=True, exist_ok=True)
    rejected = [str(r) for r in data.rejected]
    write_json(out / "metrics.json", {"test": results, "rejected_rows": rejected})
    lines = [f"# evaluation on {source.name}", "", f"| model | Recall@{k} | NDCG@{k} |", "|---|---|---|"]
    lines += [f"| {name} | {r[f'recall@{k}']:.4f} | {r[f'ndcg@{k}']:.4f} |" for name, r in results.items()]
    write_text(out / "report.md", "\n".join(lines) + "\n")
    shown = ", ".join(f"{name} NDCG@{k} {r[f'ndcg@{k}']:.4f}" for name, r in results.items())
    get_console().print(f"[bold green]{source.name}[/]: {shown} ({len(cases)} users, {len(rejected)} rejected)")
    return {"test": results, "cases": len(cases), "rejected": len(rejected)}
