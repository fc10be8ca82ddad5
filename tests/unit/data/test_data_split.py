"""Seeded, stratified splitting of validation and test off train."""

from __future__ import annotations

from collections import Counter

from tuneforge.config import SplitConfig
from tuneforge.data import Example
from tuneforge.data.split import split_off


def rows(counts: dict[str, int]) -> list[Example]:
    labels = [label for label, n in counts.items() for _ in range(n)]
    return [Example(f"text {i} 文本", label, "t.csv", i + 2) for i, label in enumerate(labels)]


def lines(splits: dict[str, list[Example]]) -> dict[str, list[int]]:
    return {name: [e.line for e in examples] for name, examples in splits.items()}


def test_same_seed_gives_the_same_split_and_another_seed_another():
    data = rows({"refund": 60, "delivery": 40})
    first, _ = split_off(data, SplitConfig(seed=7), validation=True, test=True)
    again, _ = split_off(list(data), SplitConfig(seed=7), validation=True, test=True)
    other, _ = split_off(data, SplitConfig(seed=8), validation=True, test=True)
    assert lines(first) == lines(again)
    assert lines(first) != lines(other)


def test_split_is_stratified_complete_and_in_file_order():
    data = rows({"refund": 60, "delivery": 30, "account": 10})
    splits, warnings = split_off(data, SplitConfig(validation=0.1, test=0.2), validation=True, test=True)
    assert warnings == []
    assert {name: dict(Counter(e.label for e in split)) for name, split in splits.items()} == {
        "train": {"refund": 42, "delivery": 21, "account": 7},
        "validation": {"refund": 6, "delivery": 3, "account": 1},
        "test": {"refund": 12, "delivery": 6, "account": 2},
    }
    assert sorted(e.line for split in splits.values() for e in split) == [e.line for e in data]
    assert all(lines(splits)[name] == sorted(lines(splits)[name]) for name in splits)


def test_classes_too_small_to_stratify_stay_in_train_with_a_warning():
    data = rows({"refund": 30, "delivery": 30, "rare": 2})
    splits, warnings = split_off(data, SplitConfig(), validation=True, test=True)
    assert Counter(e.label for e in splits["train"])["rare"] == 2
    assert warnings == ["class 'rare' has 2 row(s), too few to stratify over 3 splits: all kept in train"]


def test_too_few_rows_for_the_classes_falls_back_to_a_random_split():
    data = rows({"a": 3, "b": 3, "c": 3, "d": 3})
    splits, warnings = split_off(data, SplitConfig(validation=0.1, test=0), validation=True, test=False)
    assert len(splits["validation"]) == 2 and "test" not in splits
    assert warnings == ["validation: 2 row(s) for 4 classes are too few to stratify; split at random"]


def test_only_the_missing_split_is_made():
    data = rows({"refund": 10, "delivery": 10})
    splits, _ = split_off(data, SplitConfig(validation=0.3, test=0.5), validation=False, test=True)
    assert set(splits) == {"train", "test"}
    assert (len(splits["train"]), len(splits["test"])) == (10, 10)


def test_prepare_splits_train_when_no_files_are_given(write, prepare):
    content = "text,label\n" + "".join(f"message number {i},{'ab'[i % 2]}\n" for i in range(40))
    data = prepare(write("train.csv", content))
    again = prepare(write("train.csv", content))
    assert (len(data.train), len(data.validation), len(data.test)) == (32, 4, 4)
    assert [e.line for e in data.test] == [e.line for e in again.test]
    assert data.labels == ["a", "b"]
