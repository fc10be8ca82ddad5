"""Cost, threshold choice, fold scores and occlusion contributions, checked against brute force."""

import numpy as np
import pandas as pd
import pytest

from tuneforge.config.tabular import CostMatrix
from tuneforge.tasks.tabular.schema import Column, Schema
from tuneforge.tasks.tabular.scoring import best_threshold, contributions, expected_cost, fold_scores


def test_expected_cost_counts_each_mistake_at_its_price() -> None:
    y = np.array([1, 1, 0, 0])
    p = np.array([0.9, 0.2, 0.6, 0.1])  # at 0.5: one positive missed (5), one negative flagged (1)
    assert expected_cost(y, p, 0.5, CostMatrix()) == (5 + 1) / 4


def test_best_threshold_is_the_cheapest_on_the_grid() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 400), 0, 1)
    cost = CostMatrix(false_negative=5, false_positive=1)
    chosen = best_threshold(y, p, cost)
    brute = min(expected_cost(y, p, t, cost) for t in np.linspace(0, 1, 1001))
    assert expected_cost(y, p, chosen, cost) == brute
    # Missing a positive is 5 times dearer, so the threshold sits below 0.5.
    assert chosen < 0.5


def test_fold_scores_are_those_of_scikit_learn() -> None:
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.1, 0.7, 0.4, 0.8, 0.9])
    scores = fold_scores(y, p, 0.3, CostMatrix())
    # 5 of the 6 (positive, negative) pairs are ordered right; at 0.5 two of three positives are found.
    assert scores["roc_auc"] == pytest.approx(5 / 6)
    assert scores["accuracy"] == pytest.approx(3 / 5) and scores["f1"] == pytest.approx(2 / 3)
    assert scores["cost_per_row"] == pytest.approx(1 / 5)


def test_contributions_name_the_feature_that_moves_the_probability() -> None:
    schema = Schema(
        "label", ["good", "bad"], [Column("debt", "numeric", 0.0, []), Column("city", "categorical", "A", ["A", "B"])]
    )
    frame = pd.DataFrame({"debt": [3.0, 0.0], "city": ["A", "B"]})

    def predict(rows: pd.DataFrame) -> np.ndarray:
        return 0.1 + 0.2 * rows["debt"].to_numpy() / 3 + 0.5 * (rows["city"] == "B").to_numpy()

    probabilities, top = contributions(predict, frame, schema, top=1)
    assert np.allclose(probabilities, [0.3, 0.6])
    assert top[0] == [{"feature": "debt", "value": 3.0, "contribution": 0.2}]
    assert top[1] == [{"feature": "city", "value": "B", "contribution": 0.5}]
