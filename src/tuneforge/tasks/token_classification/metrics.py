"""NER metrics, pure functions of gold and predicted IOB2 tags per sentence.

The main score is entity-level: seqeval in strict IOB2 mode, where an entity counts only when its type and both
boundaries are right. The token-level report (one row per tag, over words) is kept for comparison with the usual
BERT NER notebooks, and the error table lists the entities most often missed, invented or given the wrong type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from tuneforge.evaluate.metrics import classification_metrics, per_class_table
from tuneforge.tasks.token_classification.tags import entities_of

__all__ = ["entity_errors", "entity_metrics", "token_metrics"]

_SHOWN_ERRORS = 10  # rows per kind in the error table


def entity_metrics(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, object]:
    """entity_precision/recall/f1 (micro), entity_macro_f1 and a per-type table, seqeval strict IOB2.

    >>> entity_metrics([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])["entity_f1"]
    0.0
    """
    from seqeval.metrics import classification_report  # imported here: only NER evaluation needs it
    from seqeval.scheme import IOB2

    gold, predicted = [list(s) for s in gold], [list(s) for s in predicted]
    if not any(entities_of(s) for s in gold) and not any(entities_of(s) for s in predicted):
        return {
            "entity_precision": 0.0,
            "entity_recall": 0.0,
            "entity_f1": 0.0,
            "entity_macro_f1": 0.0,
            "per_type": [],
        }
    report = classification_report(gold, predicted, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    averages = {"micro avg", "macro avg", "weighted avg"}
    per_type = [
        {
            "label": label,
            "precision": float(row["precision"]),
            "recall": float(row["recall"]),
            "f1": float(row["f1-score"]),
            "support": int(row["support"]),
        }
        for label, row in report.items()
        if label not in averages
    ]
    micro = report["micro avg"]
    return {
        "entity_precision": float(micro["precision"]),
        "entity_recall": float(micro["recall"]),
        "entity_f1": float(micro["f1-score"]),
        "entity_macro_f1": float(report["macro avg"]["f1-score"]),
        "per_type": per_type,
    }


def token_metrics(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], tags: list[str]) -> dict:
    """Word-level accuracy, macro/weighted F1, per-tag table and confusion matrix (rows gold, columns predicted)."""
    index = {tag: i for i, tag in enumerate(tags)}
    confusion = np.zeros((len(tags), len(tags)), dtype=np.int64)
    for gold_tags, predicted_tags in zip(gold, predicted, strict=True):
        for g, p in zip(gold_tags, predicted_tags, strict=True):
            confusion[index[g], index[p]] += 1
    scores = classification_metrics(confusion)
    return {
        **{f"token_{name}": value for name, value in scores.items()},
        "per_tag": per_class_table(confusion, tags),
        "confusion": confusion.tolist(),
    }


def entity_errors(
    texts: Sequence[str],
    offsets: Sequence[Sequence[tuple[int, int]]],
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    top: int = _SHOWN_ERRORS,
) -> dict[str, list[dict[str, object]]]:
    """The most frequent missed, spurious and wrong-type entities, by their text.

    missed: a gold entity whose exact span nobody predicted; spurious: a predicted span that is no gold span;
    wrong_type: the right span with another type. A boundary error counts as one missed and one spurious.
    """
    missed: Counter[tuple[str, str]] = Counter()
    spurious: Counter[tuple[str, str]] = Counter()
    wrong: Counter[tuple[str, str, str]] = Counter()
    for text, spans, gold_tags, predicted_tags in zip(texts, offsets, gold, predicted, strict=True):

        def surface(start: int, end: int, text: str = text, spans: Sequence[tuple[int, int]] = spans) -> str:
            return text[spans[start][0] : spans[end - 1][1]]

        gold_spans = {(e.start, e.end): e.label for e in entities_of(gold_tags)}
        predicted_spans = {(e.start, e.end): e.label for e in entities_of(predicted_tags)}
        for span, label in gold_spans.items():
            if span not in predicted_spans:
                missed[surface(*span), label] += 1
            elif predicted_spans[span] != label:
                wrong[surface(*span), label, predicted_spans[span]] += 1
        for span, label in predicted_spans.items():
            if span not in gold_spans:
                spurious[surface(*span), label] += 1
    return {
        "missed": [{"text": t, "label": k, "count": n} for (t, k), n in missed.most_common(top)],
        "spurious": [{"text": t, "label": k, "count": n} for (t, k), n in spurious.most_common(top)],
        "wrong_type": [{"text": t, "label": g, "predicted": p, "count": n} for (t, g, p), n in wrong.most_common(top)],
        "totals": {
            "missed": sum(missed.values()),
            "spurious": sum(spurious.values()),
            "wrong_type": sum(wrong.values()),
        },
    }
