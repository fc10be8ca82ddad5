"""The gate: each rule alone rejects a challenger, with its reason; a good one is promoted."""

from __future__ import annotations

import pytest

from tuneforge.config.continual import GateConfig
from tuneforge.continual.gate import decide


def _scores(main: float, per_class: dict[str, float], size: int = 100) -> dict:
    return {
        "main": main,
        "metric": "accuracy",
        "size": size,
        "per_class": {label: {"f1": f1, "support": 40} for label, f1 in per_class.items()},
    }


def _evaluation(gain: float = 0.2, forgetting: float = 0.0, drop: float = 0.0) -> dict:
    return {
        "champion": {"round_test": _scores(0.5, {}), "regression": _scores(0.9, {"a": 0.9, "b": 0.9})},
        "challenger": {
            "round_test": _scores(0.5 + gain, {}),
            "regression": _scores(0.9 - forgetting, {"a": 0.9 - drop, "b": 0.9}),
        },
    }


PLAN = {"rows": {"new": 200}}


def test_a_better_challenger_is_promoted() -> None:
    decision = decide(_evaluation(), PLAN, GateConfig())
    assert decision["decision"] == "promote"
    assert "gain +0.2000" in decision["reasons"][0]


@pytest.mark.parametrize(
    ("evaluation", "plan", "reason"),
    [
        (_evaluation(gain=-0.01), PLAN, "below min_gain"),
        (_evaluation(forgetting=0.02), PLAN, "above max_forgetting"),
        (_evaluation(drop=0.10), PLAN, "lost more than max_class_drop"),
        (_evaluation(), {"rows": {"new": 10}}, "fewer than min_new_rows"),
        (_evaluation(), {"rows": {"new": 200, "feedback": 400, "conflicts": 200}}, "poisoned feedback"),
    ],
)
def test_each_rule_rejects_on_its_own(evaluation: dict, plan: dict, reason: str) -> None:
    decision = decide(evaluation, plan, GateConfig())
    assert decision["decision"] == "reject"
    assert len(decision["reasons"]) == 1 and reason in decision["reasons"][0]


def test_a_round_with_new_labels_says_how_the_regression_set_was_scored() -> None:
    evaluation = _evaluation()
    evaluation["challenger"]["regression_all_labels"] = _scores(0.85, {})
    reasons = decide(evaluation, PLAN, GateConfig())["reasons"]
    assert "among the champion's labels" in reasons[-1] and "0.8500" in reasons[-1]


def test_classes_with_little_support_are_not_gated() -> None:
    evaluation = _evaluation(drop=0.5)
    for who in ("champion", "challenger"):
        evaluation[who]["regression"]["per_class"]["a"]["support"] = 5
    assert decide(evaluation, PLAN, GateConfig(min_class_support=20))["decision"] == "promote"


def _paired(evaluation: dict, before: list[int], after: list[int]) -> dict:
    evaluation["champion"]["regression"]["per_class"]["a"]["correct"] = before
    evaluation["challenger"]["regression"]["per_class"]["a"]["correct"] = after
    return evaluation


def test_a_class_drop_within_chance_on_its_rows_is_shown_not_counted() -> None:
    # 40 rows: 3 lost, 1 won (McNemar p 0.31): noisy labels do that
    evaluation = _paired(_evaluation(drop=0.12), [1] * 36 + [0, 1, 1, 1], [1] * 36 + [1, 0, 0, 0])
    decision = decide(evaluation, PLAN, GateConfig())
    assert decision["decision"] == "promote"
    assert "not counted, within chance" in decision["reasons"][-1]


def test_a_class_drop_beyond_chance_rejects() -> None:
    evaluation = _paired(_evaluation(drop=0.3), [1] * 40, [1] * 28 + [0] * 12)  # 12 lost, none won: p 0.0002
    decision = decide(evaluation, PLAN, GateConfig())
    assert decision["decision"] == "reject" and "(p 0.000)" in decision["reasons"][0]


def _round_test_agreement(evaluation: dict, hits: list[int]) -> dict:
    evaluation["champion"]["round_test"]["per_class"] = {"a": {"f1": 0.5, "support": len(hits), "correct": hits}}
    return evaluation


def test_feedback_the_champion_mostly_disagrees_with_is_rejected_as_noisy() -> None:
    # regression accuracy 0.9; agreement 0.45 on its labels: about half of the labels are wrong
    noisy = decide(_round_test_agreement(_evaluation(), [1] * 45 + [0] * 55), PLAN, GateConfig())
    assert noisy["decision"] == "reject" and "about 50% of the feedback labels look wrong" in noisy["reasons"][0]
    # agreement 0.8: about 11% wrong, as everyday feedback is
    fine = decide(_round_test_agreement(_evaluation(), [1] * 80 + [0] * 20), PLAN, GateConfig())
    assert fine["decision"] == "promote"
