"""What continual rounds (`tuneforge retrain`) need of text classification: examples as a `text,label` CSV, and
a loaded run's accuracy and per-class F1 on labelled texts, labels it has never seen included (they count as
errors: a champion that cannot name a new intent is wrong on it)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from tuneforge.data.rows import Example
from tuneforge.tasks.base import Scores

__all__ = ["score_texts", "write_examples"]


def write_examples(examples: list[Example], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows((e.text, e.label) for e in examples)


def score_texts(estimator: Any, examples: list[Example], labels: list[str] | None = None) -> Scores:
    """Accuracy, macro F1 and F1 per class; with `labels`, the model answers among those only (a challenger on
    what the champion knew, in the champion's label space)."""
    predicted = []
    if examples:
        probabilities = estimator.predict_proba([e.text for e in examples])
        if labels is not None:
            allowed = np.array([label in set(labels) for label in estimator.labels_])
            probabilities = np.where(allowed, probabilities, -1.0)
        predicted = [estimator.labels_[i] for i in probabilities.argmax(1)]
    truth = [e.label for e in examples]
    hits = Counter(t for t, p in zip(truth, predicted, strict=True) if t == p)
    support, guessed = Counter(truth), Counter(predicted)
    per_class = {}
    for label in sorted(support):
        precision = hits[label] / guessed[label] if guessed[label] else 0.0
        recall = hits[label] / support[label]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        right = [int(p == t) for t, p in zip(truth, predicted, strict=True) if t == label]  # paired, for the gate
        per_class[label] = {"f1": f1, "support": support[label], "correct": right}
    accuracy = sum(hits.values()) / len(truth) if truth else 0.0
    macro_f1 = sum(c["f1"] for c in per_class.values()) / len(per_class) if per_class else 0.0
    return {"main": accuracy, "metric": "accuracy", "macro_f1": macro_f1, "size": len(truth), "per_class": per_class}
