"""Stratified k-fold cross-validation of every family on the same folds, with out-of-fold predictions.

Each fold's predictions are saved under the staging run dir (`cv/<family>-<fold>.json`), so `--resume` after an
interruption redoes only the folds that had not finished.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich import get_console

from tuneforge.config import Config
from tuneforge.config.tabular import TabularConfig
from tuneforge.rundir import write_json
from tuneforge.tasks.tabular.data import TrainingData
from tuneforge.tasks.tabular.families import NAMES, Family, make_family
from tuneforge.tasks.tabular.scoring import best_threshold, expected_cost, fold_scores, mean_std

__all__ = ["FamilyResult", "cross_validate", "fold_indices"]


@dataclass
class FamilyResult:
    key: str  # the config name: hgb, logreg, mlp, lm
    name: str
    out_of_fold: np.ndarray  # P(positive) of every row, from the model that did not see it
    threshold: float  # lowest expected cost on the out-of-fold predictions
    folds: list[dict[str, float]]
    fit_seconds: float
    first_fold_model: Family | None = field(default=None, repr=False)  # kept for permutation importance

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "threshold": self.threshold,
            "fit_seconds": round(self.fit_seconds, 2),
            "metrics": mean_std(self.folds),
            "folds": self.folds,
        }


def fold_indices(y: np.ndarray, tabular: TabularConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=tabular.folds, shuffle=True, random_state=tabular.seed)
    return list(folds.split(np.zeros(len(y)), y))


def cross_validate(cfg: Config, data: TrainingData, cache: Path) -> dict[str, FamilyResult]:
    """Out-of-fold predictions, a cost-minimising threshold and per-fold scores for each family in the config."""
    tabular = cfg.tabular or TabularConfig()
    frame, y = data.parsed.frame, data.parsed.labels
    assert y is not None
    cache.mkdir(parents=True, exist_ok=True)
    folds = fold_indices(y, tabular)
    bayes = tabular.cost.false_positive / (tabular.cost.false_positive + tabular.cost.false_negative)
    results: dict[str, FamilyResult] = {}
    for family in tabular.models:
        out_of_fold = np.zeros(len(y))
        seconds, first_model = 0.0, None
        for k, (train_rows, held_rows) in enumerate(folds):
            saved = cache / f"{family}-{k}.json"
            if saved.is_file():
                done = json.loads(saved.read_text(encoding="utf-8"))
                out_of_fold[held_rows], seconds = done["probabilities"], seconds + done["seconds"]
                continue
            started = time.perf_counter()
            model = make_family(family, data.schema, cfg).fit(frame.iloc[train_rows], y[train_rows])
            out_of_fold[held_rows] = model.predict_proba(frame.iloc[held_rows])
            spent = time.perf_counter() - started
            seconds += spent
            write_json(saved, {"probabilities": out_of_fold[held_rows].tolist(), "seconds": spent})
            first_model = model if k == 0 else first_model
            get_console().print(f"{NAMES[family]}: fold {k + 1}/{len(folds)} done in {spent:.1f} s")
        threshold = best_threshold(y, out_of_fold, tabular.cost)
        scores = []
        for _, held_rows in folds:
            held_y, held_p = y[held_rows], out_of_fold[held_rows]
            scores.append(
                {
                    **fold_scores(held_y, held_p, threshold, tabular.cost),
                    "cost_per_row_bayes": expected_cost(held_y, held_p, bayes, tabular.cost),
                }
            )
        results[family] = FamilyResult(family, NAMES[family], out_of_fold, threshold, scores, seconds, first_model)
    return results
