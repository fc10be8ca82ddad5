"""Recall@k and NDCG@k of one held-out item per case, ranked against every candidate item (no sampling)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

__all__ = ["Case", "Scorer", "random_expectation", "ranking_metrics"]

Case = tuple[int, list[int], int]  # (user index, items seen before, held-out target)
_BATCH = 512  # cases scored at once: 512 x 10k items of float32 is 20 MB


class Scorer(Protocol):
    def score(self, users: list[int], histories: list[list[int]]) -> np.ndarray:
        """Scores [len(users), n_items]; higher ranks first."""
        ...


def ranking_metrics(
    scorer: Scorer, cases: Sequence[Case], k: int, candidates: np.ndarray | None = None
) -> dict[str, float]:
    """Mean Recall@k and NDCG@k; each case's seen items are excluded, and so are items outside `candidates`.

    Ties are broken at random (in expectation), so a constant scorer earns exactly the random expectation.
    """
    discounts = np.concatenate([[0.0], np.cumsum(1 / np.log2(np.arange(k) + 2))])  # discounts[r]: ranks < r
    hits, gains = [], []
    for start in range(0, len(cases), _BATCH):
        batch = cases[start : start + _BATCH]
        scores = scorer.score([c[0] for c in batch], [c[1] for c in batch]).astype(np.float64, copy=True)
        if candidates is not None:
            scores[:, ~candidates] = -np.inf
        for row, (_, seen, _) in enumerate(batch):
            scores[row, seen] = -np.inf
        targets = np.array([c[2] for c in batch])
        target_scores = scores[np.arange(len(batch)), targets][:, None]
        above = (scores > target_scores).sum(1)
        tied = (scores == target_scores).sum(1)  # the target and the items it ties with, in random order
        # Expected Recall and NDCG when ties are broken at random: the target is equally likely at each of the
        # ranks above .. above + tied - 1 (0-based); only those below k count.
        first, last = np.minimum(above, k), np.minimum(above + tied, k)
        hits.append((last - first) / tied)
        gains.append((discounts[last] - discounts[first]) / tied)
    if not cases:
        return {f"recall@{k}": 0.0, f"ndcg@{k}": 0.0, "cases": 0}
    return {
        f"recall@{k}": float(np.concatenate(hits).mean()),
        f"ndcg@{k}": float(np.concatenate(gains).mean()),
        "cases": len(cases),
    }


def random_expectation(n_candidates: int, k: int) -> dict[str, float]:
    """Exact Recall@k and NDCG@k of a uniformly random ranking of `n_candidates` items with one relevant."""
    shown = min(k, n_candidates)
    return {
        f"recall@{k}": shown / n_candidates,
        f"ndcg@{k}": sum(1 / math.log2(r + 2) for r in range(shown)) / n_candidates,
    }
