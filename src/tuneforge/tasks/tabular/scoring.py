"""Scores of probability predictions: ROC-AUC, accuracy, F1, expected cost at a decision threshold, the
threshold that minimises that cost, permutation importance, and per-row contributions by occlusion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tuneforge.config.tabular import CostMatrix
from tuneforge.tasks.tabular.schema import Schema

__all__ = ["best_threshold", "contributions", "expected_cost", "fold_scores", "mean_std", "permutation_importances"]

_THRESHOLDS = np.linspace(0.0, 1.0, 1001)  # a grid of 0.001: finer than 1,000 rows can tell apart


def expected_cost(y: np.ndarray, p: np.ndarray, threshold: float, cost: CostMatrix) -> float:
    """Mean cost per row when rows with p >= threshold are decided positive."""
    positive = p >= threshold
    false_negatives = np.sum((y == 1) & ~positive)
    false_positives = np.sum((y == 0) & positive)
    return float(cost.false_negative * false_negatives + cost.false_positive * false_positives) / len(y)


def best_threshold(y: np.ndarray, p: np.ndarray, cost: CostMatrix) -> float:
    """The threshold of the grid with the lowest expected cost; ties go to the one nearest the Bayes threshold."""
    costs = np.array([expected_cost(y, p, t, cost) for t in _THRESHOLDS])
    bayes = cost.false_positive / (cost.false_positive + cost.false_negative)
    tied = np.flatnonzero(costs <= costs.min() + 1e-12)
    return float(_THRESHOLDS[tied[np.argmin(np.abs(_THRESHOLDS[tied] - bayes))]])


def fold_scores(y: np.ndarray, p: np.ndarray, threshold: float, cost: CostMatrix) -> dict[str, float]:
    """ROC-AUC; accuracy and positive-class F1 at p >= 0.5; expected cost per row at `threshold`."""
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    decided = (p >= 0.5).astype(int)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "accuracy": float(accuracy_score(y, decided)),
        "f1": float(f1_score(y, decided, zero_division=0)),
        "cost_per_row": expected_cost(y, p, threshold, cost),
    }


def mean_std(per_fold: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        key: {"mean": float(np.mean([f[key] for f in per_fold])), "std": float(np.std([f[key] for f in per_fold]))}
        for key in per_fold[0]
    }


def permutation_importances(
    predict: Callable[[pd.DataFrame], np.ndarray], frame: pd.DataFrame, y: np.ndarray, repeats: int, seed: int
) -> dict[str, dict[str, float]]:
    """Mean and std drop in ROC-AUC when one column is shuffled, per column (scikit-learn's permutation_importance)."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import roc_auc_score

    found = permutation_importance(
        _Fitted(predict),
        frame,
        y,
        scoring=lambda est, x, t: roc_auc_score(t, est.predict(x)),
        n_repeats=repeats,
        random_state=seed,
    )
    return {
        name: {"mean": float(m), "std": float(s)}
        for name, m, s in zip(frame.columns, found.importances_mean, found.importances_std, strict=True)
    }


class _Fitted:
    """What permutation_importance asks of an estimator when the scorer is a callable: something to score."""

    def __init__(self, predict: Callable[[pd.DataFrame], np.ndarray]) -> None:
        self.predict = predict

    def fit(self, *_: Any) -> _Fitted:
        return self


def contributions(
    predict: Callable[[pd.DataFrame], np.ndarray], frame: pd.DataFrame, schema: Schema, top: int
) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Probabilities and, per row, the `top` features whose value moves the probability most.

    Occlusion: a feature's contribution is p(row) - p(row with that feature set to its training fill value, the
    median or most frequent category). It works for every family alike and needs one batch per feature.
    """
    base = predict(frame)
    deltas = np.zeros((len(frame), len(schema.columns)))
    for j, column in enumerate(schema.columns):
        occluded = frame.copy()
        occluded[column.name] = column.fill
        deltas[:, j] = base - predict(occluded)
    rows = []
    for i in range(len(frame)):
        order = np.argsort(-np.abs(deltas[i]))[:top]
        rows.append(
            [
                {
                    "feature": schema.columns[j].name,
                    "value": _plain(frame.iat[i, j]),
                    "contribution": round(float(deltas[i, j]), 4),
                }
                for j in order
            ]
        )
    return base, rows


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
