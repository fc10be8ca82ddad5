"""Classification metrics from a confusion matrix, which is all evaluation keeps: memory stays bounded."""

from __future__ import annotations

import numpy as np

__all__ = ["classification_metrics", "per_class_table"]


def _per_class(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(confusion).astype(float)
    predicted = confusion.sum(axis=0).astype(float)
    support = confusion.sum(axis=1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1, support


def classification_metrics(confusion: np.ndarray) -> dict[str, float]:
    """accuracy, macro and weighted F1 (as scikit-learn defines them, zero_division=0) from rows=true, cols=pred.

    >>> classification_metrics(np.array([[3, 1], [0, 4]]))["accuracy"]
    0.875
    """
    _, _, f1, support = _per_class(confusion)
    total = support.sum()
    # Like scikit-learn without `labels=`: average over labels that occur in the truth or the predictions.
    present = (support > 0) | (confusion.sum(axis=0) > 0)
    return {
        "accuracy": float(np.trace(confusion) / total) if total else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "weighted_f1": float((f1 * support).sum() / total) if total else 0.0,
    }


def per_class_table(confusion: np.ndarray, labels: list[str]) -> list[dict[str, float | str]]:
    """One row per label: precision, recall, f1, support."""
    precision, recall, f1, support = _per_class(confusion)
    return [
        {"label": label, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    ]
