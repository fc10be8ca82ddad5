"""Leave-last-out by time with held-out cold items, and ranking metrics over all items."""

import numpy as np
import pytest

from tuneforge.tasks.recommendation.data import Interactions
from tuneforge.tasks.recommendation.metrics import random_expectation, ranking_metrics
from tuneforge.tasks.recommendation.split import split_interactions


def _data(rows: list[tuple[str, int]]) -> Interactions:
    return Interactions(
        users=[u for u, _ in rows],
        items=np.array([i for _, i in rows]),
        times=np.arange(len(rows), dtype=float),
        rows_read=len(rows),
        duplicates_dropped=0,
        below_min_rating=0,
    )


def test_last_is_test_second_to_last_validation_and_cold_items_never_trained() -> None:
    rows = [("a", i) for i in range(8)] + [("b", i) for i in (7, 6, 5, 4, 3)] + [("c", 1), ("c", 2)]
    split = split_interactions(_data(rows), n_items=10, cold_fraction=0.25, seed=0)
    cold = set(split.cold_items.tolist())
    assert len(cold) == 2
    for user in range(3):
        warm = [i for u, i in rows if u == split.users[user] and i not in cold]
        known = [*split.train[user], split.validation[user], split.test[user]]
        assert known == warm if len(warm) >= 3 else split.train[user] == warm
        assert not cold & set(split.history(user, "all"))
    for case in split.cold_cases:
        assert case.target in cold and case.history and not cold & set(case.history)


class _Fixed:
    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def score(self, users: list[int], histories: list[list[int]]) -> np.ndarray:
        return np.tile(self.scores, (len(users), 1))


def test_perfect_seen_items_excluded_and_constant_is_random() -> None:
    scores = np.arange(20, dtype=float)[::-1].copy()  # item 0 best
    cases = [(0, [0, 1], 2)]  # items 0 and 1 were seen: the target 2 ranks first among the rest
    assert ranking_metrics(_Fixed(scores), cases, k=10) == {"recall@10": 1.0, "ndcg@10": 1.0, "cases": 1}
    worst = [(0, [], 19)]
    assert ranking_metrics(_Fixed(scores), worst, k=10)["recall@10"] == 0.0
    constant = ranking_metrics(_Fixed(np.zeros(20)), cases, k=10)
    expected = random_expectation(18, 10)
    assert constant["recall@10"] == pytest.approx(expected["recall@10"])
    assert constant["ndcg@10"] == pytest.approx(expected["ndcg@10"])


def test_candidates_restrict_the_ranking() -> None:
    scores = np.arange(20, dtype=float)  # item 19 best
    candidates = np.zeros(20, dtype=bool)
    candidates[[3, 4, 5]] = True
    result = ranking_metrics(_Fixed(scores), [(0, [], 5)], k=1, candidates=candidates)
    assert result["recall@1"] == 1.0
