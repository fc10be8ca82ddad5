"""What a recommendation run keeps in `model/`, and `Recommender`: the library predictor that reads it back.

>>> from tuneforge.tasks.recommendation import load
>>> recommender = load("runs/recsys-demo")  # doctest: +SKIP
>>> recommender.predict([{"user": "u001"}, {"text": "space adventure with robots", "k": 5}])  # doctest: +SKIP
[{"user": "u001", "items": [{"item": "m12", "title": "...", "score": 3.1}, ...]}, ...]
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich import get_console
from rich.table import Table as RichTable
from safetensors.torch import load_file, save_file

from tuneforge.config import Config
from tuneforge.data import read_table
from tuneforge.data.records import output_columns, write_records
from tuneforge.embedding import encode_texts, load_encoder
from tuneforge.errors import DataError
from tuneforge.rundir import read_json, write_evaluation, write_json
from tuneforge.tasks.recommendation.baselines import MatrixFactorisation, Popularity
from tuneforge.tasks.recommendation.data import Catalogue, read_interactions
from tuneforge.tasks.recommendation.metrics import ranking_metrics
from tuneforge.tasks.recommendation.split import Split
from tuneforge.tasks.recommendation.tower import TowerScorer, TwoTower

__all__ = ["Recommender", "load", "save_recommender"]


def save_recommender(
    run_dir: Path, cfg: Config, catalogue: Catalogue, split: Split, vectors: np.ndarray, key: str, models: dict
) -> dict[str, Any]:
    """Write the models into run_dir/model/; returns the run's manifest."""
    folder = run_dir / "model"
    folder.mkdir(exist_ok=True)
    np.save(folder / f"item_text_vectors.{key}.npy", vectors)
    save_file(models["tower"].state_dict(), str(folder / "tower.safetensors"))
    np.save(folder / "popularity.npy", models["popularity"].counts)
    np.save(folder / "mf_user_factors.npy", models["mf"].user_factors)
    np.save(folder / "mf_item_factors.npy", models["mf"].item_factors)
    items = {"ids": catalogue.ids, "titles": catalogue.titles, "texts": catalogue.texts}
    write_json(folder / "items.json", {**items, "held_out": split.cold_items.tolist()})
    histories = [split.history(u, "all") for u in range(len(split.users))]
    write_json(folder / "users.json", {"ids": split.users, "histories": histories})
    import transformers

    return {
        "task": cfg.task,
        "model": cfg.model,
        "models": ["popularity", "mf-als", "lm-two-tower"],
        "item_text_vectors": f"model/item_text_vectors.{key}.npy",
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }


class Recommender:
    """Top-k items for known users (from their history) or for a free-text description of interests."""

    def __init__(self, run_dir: Path) -> None:
        from tuneforge.rundir import read_manifest, run_config

        manifest = read_manifest(run_dir, "recommendation")
        self.run_dir = run_dir
        self.config = run_config(run_dir)
        self.settings = self.config.recommend
        folder = run_dir / "model"
        items, users = read_json(folder / "items.json"), read_json(folder / "users.json")
        self.catalogue = Catalogue(items["ids"], items["texts"], items["titles"])
        self.user_index = {user: i for i, user in enumerate(users["ids"])}
        self.histories: list[list[int]] = users["histories"]
        vectors = np.load(run_dir / manifest["item_text_vectors"])
        warm = np.ones(len(vectors), dtype=bool)
        warm[items["held_out"]] = False
        model = TwoTower(vectors, self.settings.tower, warm)
        model.load_state_dict(load_file(str(folder / "tower.safetensors")))
        self.tower = TowerScorer(model.eval(), self.settings.tower.history)
        self.popularity = Popularity(np.load(folder / "popularity.npy"))
        self.mf = MatrixFactorisation(np.load(folder / "mf_user_factors.npy"), np.load(folder / "mf_item_factors.npy"))
        self._encoder: Any = None

    def predict(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each record holds `user` (a known user id) or `text`, and optionally `k`; JSON-able results."""
        return [self._one(record) for record in records]

    def preprocess(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return records  # read against the run's schema (or the catalogue) inside predict

    def predict_json(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.predict(records)  # already JSON-able

    def show(self, inputs: list[Any]) -> None:
        """Print the top-k items of each query: a record, or a text (a description of interests)."""
        _show(self, [{"text": q} if isinstance(q, str) else q for q in inputs])

    def predict_file(self, source: Path, output: Path, *, text_column: str | None = None) -> None:
        """Each row of `source` asks for a user (the run's user column) or a text (`text_column`, default text)."""
        _predict_file(self, source, output, text_column)

    def evaluate_file(self, source: Path) -> dict[str, Any]:
        """Recall and NDCG of popularity, ALS and the LM recommender on later interactions of known users."""
        return _evaluate_file(self, source)

    def _one(self, record: dict[str, Any]) -> dict[str, Any]:
        k = int(record.get("k") or self.settings.k)
        if record.get("user") not in (None, ""):
            user = str(record["user"])
            if user not in self.user_index:
                raise DataError(f"unknown user '{user}': not in the training interactions of this run")
            seen = self.histories[self.user_index[user]]
            scores = self.tower.score([0], [seen])[0]
            scores[seen] = -np.inf
            return {"user": user, "items": self._top(scores, k)}
        text = str(record.get("text") or "").strip()
        if not text:
            raise DataError(f"a record needs a 'user' or a non-empty 'text', got {record!r}")
        return {"text": text, "items": self._top(self.score_text(text), k)}

    def score_text(self, text: str) -> np.ndarray:
        """Cosine similarity of the description and each item text, in the sentence encoder's space.

        Read by the user tower as a one-item history instead, a description was outranked by the learned
        popularity bias (MovieLens: "space adventure with robots" gave Pulp Fiction first), so the encoder's
        own similarity, which it was trained for, ranks free text.
        """
        if self._encoder is None:
            self._encoder = load_encoder(self.config.model)
        query = encode_texts(*self._encoder, [text], max_length=self.config.train.max_length)[0]
        return self.tower.model.text.numpy() @ query.numpy()

    def _top(self, scores: np.ndarray, k: int) -> list[dict[str, Any]]:
        best = np.argsort(-scores, kind="stable")[:k]
        return [
            {"item": self.catalogue.ids[i], "title": self.catalogue.titles[i], "score": round(float(scores[i]), 4)}
            for i in best
        ]


def load(run_dir: str | Path) -> Recommender:
    return Recommender(Path(run_dir))


def _show(recommender: Recommender, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Print the top-k items of each user or text query."""
    results = recommender.predict(records)
    for result in results:
        query = f"user {result['user']}" if "user" in result else result["text"]
        table = RichTable("#", "item", "title", "score", title=query)
        for rank, item in enumerate(result["items"], start=1):
            table.add_row(str(rank), item["item"], item["title"], f"{item['score']:.3f}")
        get_console().print(table)
    return results


def _predict_file(recommender: Recommender, source: Path, output: Path, text_column: str | None) -> None:
    """Each row of `source` asks for a user (the run's user column) or a text (`text_column`, default text)."""
    user_column = recommender.settings.user_column
    table = read_table(source)
    column = user_column if user_column in table.columns and not text_column else text_column or "text"
    if column not in table.columns:
        raise DataError(f"{source}: no column '{user_column}' or 'text'; columns are {', '.join(table.columns)}")
    if bad := [f"{source}:{row.line}: {row.error}" for row in table.rows if row.values is None]:
        raise DataError(f"{source}: {len(bad)} unreadable row(s)", bad)
    rows = [row.values for row in table.rows if row.values is not None]
    header = output_columns(source, table.columns, ["recommendations"])
    key = "user" if column == user_column else "text"
    try:
        results = recommender.predict([{key: row.get(column)} for row in rows])
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None
    records = [
        {**row, "recommendations": json.dumps(result["items"], ensure_ascii=False)}
        for row, result in zip(rows, results, strict=True)
    ]
    write_records(output, header, records)
    get_console().print(f"{len(records)} recommendation lists written to [bold]{output}[/]")


def _evaluate_file(recommender: Recommender, source: Path) -> dict[str, Any]:
    """Score later interactions of known users: each user's first new item, against every item not yet seen.

    Popularity, ALS and the LM recommender are scored on the same cases; bad rows are skipped and listed.
    """
    run_dir = recommender.run_dir
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
    rejected = [str(r) for r in data.rejected]
    lines = [f"# evaluation on {source.name}", "", f"| model | Recall@{k} | NDCG@{k} |", "|---|---|---|"]
    lines += [f"| {name} | {r[f'recall@{k}']:.4f} | {r[f'ndcg@{k}']:.4f} |" for name, r in results.items()]
    write_evaluation(run_dir, source, {"test": results, "rejected_rows": rejected}, "\n".join(lines) + "\n")
    shown = ", ".join(f"{name} NDCG@{k} {r[f'ndcg@{k}']:.4f}" for name, r in results.items())
    get_console().print(f"[bold green]{source.name}[/]: {shown} ({len(cases)} users, {len(rejected)} rejected)")
    return {"test": results, "cases": len(cases), "rejected": len(rejected)}
