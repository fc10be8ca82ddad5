"""What continual rounds (`tuneforge retrain`) need of NER: sentences as span JSONL, their entities (what a
relabelled text changes), and a loaded run's entity F1 per type on labelled sentences."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tuneforge.tasks.base import Scores
from tuneforge.tasks.token_classification.tags import TaggedText, entities_of

__all__ = ["entity_spans", "score_sentences", "write_sentences"]


def entity_spans(sentence: TaggedText) -> tuple[tuple[int, int, str], ...]:
    """(start, end, type) of each entity, in characters of the sentence's text."""
    return tuple(
        (sentence.offsets[e.start][0], sentence.offsets[e.end - 1][1], e.label) for e in entities_of(sentence.tags)
    )


def write_sentences(sentences: list[TaggedText], path: Path) -> None:
    lines = (
        json.dumps(
            {"text": s.text, "label": [{"start": a, "end": b, "label": t} for a, b, t in entity_spans(s)]},
            ensure_ascii=False,
        )
        for s in sentences
    )
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def score_sentences(estimator: Any, sentences: list[TaggedText], labels: list[str] | None = None) -> Scores:
    """Micro entity F1 (exact span and type) and F1 per entity type; with `labels`, entities of other types are
    not counted as predicted (a challenger on what the champion knew)."""
    predicted = estimator.predict([s.text for s in sentences]) if sentences else []
    if labels is not None:
        predicted = [[p for p in spans if p["label"] in labels] for spans in predicted]
    gold = {(i, *span) for i, s in enumerate(sentences) for span in entity_spans(s)}
    guessed = {(i, p["start"], p["end"], p["label"]) for i, spans in enumerate(predicted) for p in spans}
    hits = gold & guessed
    by_type = {
        name: Counter(e[3] for e in found) for name, found in (("gold", gold), ("guessed", guessed), ("hit", hits))
    }
    per_class = {
        kind: {"f1": _f1(by_type["hit"][kind], by_type["guessed"][kind], n), "support": n}
        for kind, n in sorted(by_type["gold"].items())
    }
    return {
        "main": _f1(len(hits), len(guessed), len(gold)),
        "metric": "entity_f1",
        "size": len(sentences),
        "per_class": per_class,
    }


def _f1(hits: int, guessed: int, gold: int) -> float:
    return 2 * hits / (guessed + gold) if guessed + gold else 1.0
