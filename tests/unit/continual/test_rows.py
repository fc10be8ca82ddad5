"""A round's new rows: duplicates of the history, conflicts (the newest label wins), split, replay."""

from __future__ import annotations

from collections import Counter

from tuneforge.continual.rows import new_rows, replay_sample, split_round
from tuneforge.data.rows import Example
from tuneforge.tasks import TASKS

SPEC = TASKS["text-classification"].continual


def _ex(text: str, label: str, line: int = 2) -> Example:
    return Example(text, label, "feedback.csv", line)


def test_exact_normalised_and_near_duplicates_of_the_history_are_dropped() -> None:
    history = [_ex("Where's my parcel? It has not arrived yet.", "delivery"), _ex("cancel my card", "cancel")]
    feedback = [
        _ex("Where is my parcel? it has not arrived yet", "delivery"),  # near-duplicate, same label
        _ex("CANCEL my card!", "cancel"),  # normalised duplicate
        _ex("activate my card", "activate"),  # new
    ]
    found = new_rows(feedback, history, SPEC, near_threshold=0.8)
    assert [e.text for e in found.rows] == ["activate my card"]
    assert found.dropped == Counter({"already trained on": 1, "a near-duplicate of a row trained on": 1})
    assert found.conflicts == 0


def test_without_near_duplicates_only_exact_ones_are_dropped() -> None:
    history = [_ex("Where's my parcel? It has not arrived yet.", "delivery")]
    feedback = [_ex("Where is my parcel? it has not arrived yet", "delivery")]
    assert len(new_rows(feedback, history, SPEC, near_threshold=None).rows) == 1


def test_a_relabelled_text_keeps_the_newest_label_and_supersedes_the_history_row() -> None:
    history = [_ex("where is my refund", "delivery"), _ex("hello", "greeting")]
    feedback = [
        _ex("where is my refund", "refund", 2),
        _ex("我的快递到哪了", "delivery", 3),
        _ex("我的快递到哪了", "refund", 4),
    ]
    found = new_rows(feedback, history, SPEC, near_threshold=0.8)
    assert [(e.text, e.label) for e in found.rows] == [("where is my refund", "refund"), ("我的快递到哪了", "refund")]
    assert found.conflicts == 2  # one against the history, one within the round
    assert found.superseded == {0}
    assert found.dropped == Counter({"an older duplicate of a newer feedback row": 1})


def test_the_round_split_is_stratified_and_seeded() -> None:
    rows = [_ex(f"text {i}", "ab"[i % 2], i) for i in range(40)]
    train, test = split_round(rows, SPEC, test_share=0.25, seed=1)
    assert len(test) == 10 and Counter(e.label for e in test) == Counter({"a": 5, "b": 5})
    assert split_round(rows, SPEC, test_share=0.25, seed=1) == (train, test)
    assert set(e.text for e in train).isdisjoint(e.text for e in test)


def test_replay_keeps_every_class_at_its_minimum() -> None:
    history = [_ex(f"big {i}", "big", i) for i in range(500)] + [_ex(f"small {i}", "small", i) for i in range(8)]
    sample = replay_sample(history, SPEC, size=50, per_class_min=5, seed=0)
    counts = Counter(e.label for e in sample)
    assert len(sample) == 50 and counts["small"] == 5
    assert replay_sample(history, SPEC, size=50, per_class_min=5, seed=0) == sample


def test_a_database_password_is_not_kept() -> None:
    from tuneforge.continual.feedback import shown_source

    assert shown_source("postgresql://tuneforge:s3cret@db:5432/serve") == "postgresql://db:5432/serve"
    assert shown_source("feedback/new.csv") == "feedback/new.csv"
