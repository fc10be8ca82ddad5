"""What a recommendation run keeps in `model/`, and `Recommender`: the library predictor that reads it back.

>>> from tuneforge.recommend import load
>>> recommender = load("runs/recsys-demo")  # doctest: +SKIP
>>> recommender.predict([{"user": "u001"}, {"text": "space adventure with robots", "k": 5}])  # doctest: +SKIP
[{"user": "u001", "items": [{"item": "m12", "title": "...", "score": 3.1}, ...]}, ...]
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from tuneforge.config import Config
from tuneforge.errors import DataError, RunError
from tuneforge.recommend.baselines import MatrixFactorisation, Popularity
from tuneforge.recommend.data import Catalogue
from tuneforge.recommend.split import Split
from tuneforge.recommend.tower import TowerScorer, TwoTower
from tuneforge.rundir import read_json, write_json

__all__ = ["Recommender", "load", "save_recommender"]


def save_recommender(
    run_dir: Path, cfg: Config, catalogue: Catalogue, split: Split, vectors: np.ndarray, key: str, models: dict
) -> None:
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

    write_json(
        run_dir / "manifest.json",
        {
            "task": cfg.task,
            "model": cfg.model,
            "models": ["popularity", "mf-als", "lm-two-tower"],
            "item_text_vectors": f"model/item_text_vectors.{key}.npy",
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        },
    )


class Recommender:
    """Top-k items for known users (from their history) or for a free-text description of interests."""

    def __init__(self, run_dir: Path) -> None:
        from tuneforge.predict import run_config

        manifest = read_json(run_dir / "manifest.json")
        if manifest.get("task") != "recommendation":
            raise RunError(f"{run_dir} is a {manifest.get('task')} run, not a recommendation run")
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
            from tuneforge.recommend.encode import SentenceEncoder

            self._encoder = SentenceEncoder(self.config.model, self.config.train.max_length)
        query = self._encoder.encode([text])[0]
        return self.tower.model.text.numpy() @ query

    def _top(self, scores: np.ndarray, k: int) -> list[dict[str, Any]]:
        best = np.argsort(-scores, kind="stable")[:k]
        return [
            {"item": self.catalogue.ids[i], "title": self.catalogue.titles[i], "score": round(float(scores[i]), 4)}
            for i in best
        ]


def load(run_dir: str | Path) -> Recommender:
    return Recommender(Path(run_dir))
