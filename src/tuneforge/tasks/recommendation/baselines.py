"""The two reference families: item popularity and implicit-feedback matrix factorisation (ALS, `implicit`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from tuneforge.config.recommend import MFConfig
from tuneforge.tasks.recommendation.metrics import Case, ranking_metrics

__all__ = ["MatrixFactorisation", "Popularity", "fit_mf", "select_mf"]


@dataclass
class Popularity:
    """Scores every item by how many users interacted with it in training; the same list for everyone."""

    counts: np.ndarray

    @classmethod
    def fit(cls, histories: list[list[int]], n_items: int) -> Popularity:
        return cls(np.bincount(list(itertools.chain.from_iterable(histories)), minlength=n_items).astype(np.float32))

    def score(self, users: list[int], histories: list[list[int]]) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(users), len(self.counts)))


@dataclass
class MatrixFactorisation:
    """Dot products of ALS user and item factors; a user unseen in training has no factors and scores zero."""

    user_factors: np.ndarray
    item_factors: np.ndarray

    def score(self, users: list[int], histories: list[list[int]]) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T


def fit_mf(
    histories: list[list[int]], n_items: int, factors: int, regularization: float, cfg: MFConfig, seed: int
) -> MatrixFactorisation:
    """Weighted ALS (Hu, Koren & Volinsky 2008): confidence 1 + alpha on observed pairs, 1 elsewhere."""
    import scipy.sparse as sp
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    cols = np.fromiter(itertools.chain.from_iterable(histories), dtype=np.int64, count=len(rows))
    matrix = sp.csr_matrix(
        (np.full(len(rows), cfg.alpha, dtype=np.float32), (rows, cols)), shape=(len(histories), n_items)
    )
    with threadpool_limits(1, "blas"):  # implicit parallelises itself; a threaded BLAS under it slows it down
        model = AlternatingLeastSquares(
            factors=factors, regularization=regularization, iterations=cfg.iterations, random_state=seed
        )
        model.fit(matrix, show_progress=False)
    return MatrixFactorisation(np.asarray(model.user_factors), np.asarray(model.item_factors))


def select_mf(
    train: list[list[int]], validation: list[Case], n_items: int, cfg: MFConfig, k: int, seed: int
) -> tuple[tuple[int, float], list[dict[str, float]]]:
    """Fit every (factors, regularization) of the grid on `train`; return the best on validation NDCG@k and all."""
    grid = []
    for factors, regularization in itertools.product(cfg.factors, cfg.regularization):
        model = fit_mf(train, n_items, factors, regularization, cfg, seed)
        scores = ranking_metrics(model, validation, k)
        grid.append({"factors": factors, "regularization": regularization, **scores})
    best = max(grid, key=lambda row: row[f"ndcg@{k}"])
    return (int(best["factors"]), float(best["regularization"])), grid
