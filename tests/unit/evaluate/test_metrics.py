import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from tuneforge.evaluate.metrics import classification_metrics, per_class_table


def test_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 300)
    pred = np.where(rng.random(300) < 0.6, truth, rng.integers(0, 5, 300))  # label 4 only ever predicted
    confusion = confusion_matrix(truth, pred, labels=range(5))
    metrics = classification_metrics(confusion)
    assert np.isclose(metrics["accuracy"], accuracy_score(truth, pred))
    assert np.isclose(metrics["macro_f1"], f1_score(truth, pred, average="macro"))
    assert np.isclose(metrics["weighted_f1"], f1_score(truth, pred, average="weighted"))
    p, r, f, s = precision_recall_fscore_support(truth, pred, labels=range(5), zero_division=0)
    rows = per_class_table(confusion, list("abcde"))
    assert np.allclose([row["f1"] for row in rows], f)
    assert np.allclose([row["precision"] for row in rows], p)
    assert [row["support"] for row in rows] == list(s)
