"""The evaluation gate: a challenger replaces the champion only if it gains on the round's new rows, forgets
(almost) nothing of the regression set, and no known class drops by much."""

from __future__ import annotations

from typing import Any

from tuneforge.config.continual import GateConfig

__all__ = ["decide"]


def _label_noise(champion: dict[str, Any]) -> tuple[float, float, float] | None:
    """(estimated share of wrong labels, agreement, accuracy) of the round's test rows: if the champion is right
    with probability `accuracy` (its regression score) on a label it knows, a share e of wrong labels leaves an
    agreement of about (1 - e) * accuracy. None without per-row results or a regression score."""
    accuracy = champion["regression"]["main"] if champion["regression"]["size"] else 0.0
    known = champion["regression"]["per_class"]
    rows = [
        hit
        for label, scores in champion["round_test"]["per_class"].items()
        if label in known
        for hit in scores.get("correct", [])
    ]
    if not rows or accuracy <= 0:
        return None
    agreement = sum(rows) / len(rows)
    return max(0.0, 1 - agreement / accuracy), agreement, accuracy


def _chance_of_drop(before: dict[str, Any], after: dict[str, Any]) -> float:
    """One-sided exact McNemar p-value that the challenger is wrong more often than the champion on the class's
    rows (paired, in the same order); 0.0 (always significant) where the scores carry no per-row results."""
    if "correct" not in before or "correct" not in after:
        return 0.0
    pairs = list(zip(before["correct"], after["correct"], strict=True))
    lost, won = sum(b > a for b, a in pairs), sum(a > b for b, a in pairs)
    if not lost:
        return 1.0
    from scipy.stats import binomtest  # imported here: the gate of a task without per-row results needs none

    return float(binomtest(lost, lost + won, 0.5, alternative="greater").pvalue)


_SHOWN_CLASSES = 5


def decide(evaluation: dict[str, Any], plan: dict[str, Any], gate: GateConfig) -> dict[str, Any]:
    """{"decision": "promote" | "reject", "reasons": [...], "gain", "forgetting", "class_drops"}."""
    champion, challenger = evaluation["champion"], evaluation["challenger"]
    metric = champion["round_test"]["metric"]
    gain = challenger["round_test"]["main"] - champion["round_test"]["main"]
    regression = champion["regression"]["size"] > 0
    forgetting = champion["regression"]["main"] - challenger["regression"]["main"] if regression else 0.0
    before, after = champion["regression"]["per_class"], challenger["regression"]["per_class"]
    drops = {
        label: before[label]["f1"] - after.get(label, {"f1": 0.0})["f1"]
        for label in before
        if before[label]["support"] >= gate.min_class_support
    }
    reasons = []
    if plan["rows"]["new"] < gate.min_new_rows:
        reasons.append(f"{plan['rows']['new']} new rows, fewer than min_new_rows {gate.min_new_rows}")
    conflicts, feedback = plan["rows"].get("conflicts", 0), max(plan["rows"].get("feedback", 0), 1)
    if conflicts / feedback > gate.max_conflict_share:
        reasons.append(
            f"{conflicts} of {feedback} feedback rows ({conflicts / feedback:.0%}) give a text trained on another "
            f"label, above max_conflict_share {gate.max_conflict_share:.0%}: noisy or poisoned feedback"
        )
    noise = _label_noise(champion)
    if noise is not None and noise[0] > gate.max_label_noise:
        share, agreement, accuracy = noise
        reasons.append(
            f"the champion agrees with {agreement:.0%} of the round's test labels it knows, against {accuracy:.0%} "
            f"on the regression set: about {share:.0%} of the feedback labels look wrong (above max_label_noise "
            f"{gate.max_label_noise:.0%}; noisy or poisoned feedback, or traffic unlike the regression set)"
        )
    if gain < gate.min_gain:
        reasons.append(
            f"{metric} on the round's test rows: {challenger['round_test']['main']:.4f} vs the champion's "
            f"{champion['round_test']['main']:.4f}, a gain of {gain:+.4f} below min_gain {gate.min_gain:+.4f}"
        )
    if forgetting > gate.max_forgetting:
        reasons.append(
            f"{metric} on the regression set: {challenger['regression']['main']:.4f} vs the champion's "
            f"{champion['regression']['main']:.4f}, forgetting {forgetting:.4f} above max_forgetting "
            f"{gate.max_forgetting:.4f}"
        )
    chance = {label: _chance_of_drop(before[label], after.get(label, {})) for label in drops}
    dropped = sorted(
        ((d, label) for label, d in drops.items() if d > gate.max_class_drop and chance[label] < gate.significance),
        reverse=True,
    )
    if dropped:
        shown = ", ".join(
            f"{label} {before[label]['f1']:.3f} → {after.get(label, {'f1': 0.0})['f1']:.3f}"
            + (f" (p {chance[label]:.3f})" if chance[label] < 1 else "")
            for _, label in dropped[:_SHOWN_CLASSES]
        )
        more = f" and {len(dropped) - _SHOWN_CLASSES} more" if len(dropped) > _SHOWN_CLASSES else ""
        reasons.append(
            f"{len(dropped)} class(es) lost more than max_class_drop {gate.max_class_drop} F1 on the regression "
            f"set: {shown}{more}"
        )
    worst = max(drops.items(), key=lambda item: item[1], default=(None, 0.0))
    decision = "reject" if reasons else "promote"
    if not reasons:
        reasons.append(
            f"{metric} gain {gain:+.4f} on {champion['round_test']['size']} new test rows, forgetting "
            f"{forgetting:+.4f} on {champion['regression']['size']} regression rows"
            + (f", largest class drop {worst[1]:+.3f} ({worst[0]})" if worst[0] else "")
        )
    if "regression_all_labels" in challenger:
        reasons.append(
            f"the regression set is scored among the champion's labels (it cannot answer the new ones); over all "
            f"its labels the challenger scores {challenger['regression_all_labels']['main']:.4f}"
        )
    if not regression:
        reasons.append("no regression set (the launch run had no test split): forgetting is not measured")
    counted = {label for _, label in dropped}
    noise = sorted(label for label, d in drops.items() if d > gate.max_class_drop and label not in counted)
    if noise:
        reasons.append(
            f"{len(noise)} class drop(s) over max_class_drop not counted, within chance on their rows "
            f"(McNemar p ≥ {gate.significance}): {', '.join(noise[:_SHOWN_CLASSES])}"
        )
    return {
        "decision": decision,
        "reasons": reasons,
        "gain": gain,
        "forgetting": forgetting,
        "class_drops": dict(sorted(drops.items(), key=lambda item: -item[1])[:20]),
    }
