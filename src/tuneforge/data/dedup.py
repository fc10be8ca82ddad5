"""Duplicates within a file and leakage between splits, both judged on the normalised key of a text, or with
clean.near_duplicates on the similarity of keys (near_dup.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from tuneforge.data.near_dup import NearDuplicateIndex, near_duplicate_groups
from tuneforge.data.normalize import dedup_key
from tuneforge.data.rows import Example

__all__ = ["ConflictGroup", "Dedup", "NearDuplicateGroup", "dedup", "holding_splits", "remove_leakage", "shared_texts"]


@dataclass
class ConflictGroup:
    """Rows with the same normalised text, or near-duplicate texts, but different labels."""

    source: str
    text: str
    labels: dict[str, int]
    kept: str | None  # the majority label, whose first row is kept; None on a tie, when the whole group is dropped
    lines: list[int]
    variants: list[str] = field(default_factory=list)  # near-duplicates of `text`: the first text of each other key


@dataclass
class NearDuplicateGroup:
    """Rows with one label whose texts are near-duplicates, not all the same normalised text: the first is kept."""

    source: str
    label: str
    texts: list[str]  # the kept text, then the first text of each other normalised key
    lines: list[int]


@dataclass
class Dedup:
    """What dedup dropped: rows per reason, and every group whose labels conflict."""

    exact: int = 0  # same text and label as an earlier row
    normalised: int = 0  # same text up to case, punctuation, spaces and width, and the same label
    near: int = 0  # a near-duplicate of an earlier row (clean.near_duplicates), with the same label
    conflicting: int = 0  # rows dropped from groups whose labels disagree
    conflicts: list[ConflictGroup] = field(default_factory=list)
    near_groups: list[NearDuplicateGroup] = field(default_factory=list)


def dedup(examples: list[Example], near_duplicates: float | None = None) -> tuple[list[Example], Dedup]:
    """Keep the first row of each group of duplicates; a group with conflicting labels keeps the first row of
    its majority label, or nothing on a tie. The order of the kept rows is unchanged. With `near_duplicates` (a
    Jaccard threshold), texts connected by near-duplication form one group.

    >>> a, b = Example("Refund?", "refund", "t.csv", 2), Example("refund", "refund", "t.csv", 3)
    >>> kept, stats = dedup([a, b])
    >>> kept == [a], stats.normalised
    (True, 1)
    """
    stats = Dedup()
    dropped: set[Example] = set()
    for group in _groups(examples, near_duplicates):
        labels = Counter(e.label for e in group)
        if len(labels) == 1:
            dropped.update(group[1:])
            _count_repeats(group, stats)
            continue
        (top, top_count), (_, second_count) = labels.most_common(2)
        winner = top if top_count > second_count else None
        kept = next((e for e in group if e.label == winner), None)
        dropped.update(e for e in group if e is not kept)
        stats.conflicting += len(group) - (winner is not None)
        first = group[0]
        stats.conflicts.append(
            ConflictGroup(first.source, first.text, dict(labels), winner, [e.line for e in group], _variants(group))
        )
    return [e for e in examples if e not in dropped], stats


def _groups(examples: list[Example], near_duplicates: float | None) -> list[list[Example]]:
    """Groups of two or more rows, in file order, ordered by their first row."""
    if near_duplicates is not None:
        indices = near_duplicate_groups([e.text for e in examples], near_duplicates)
        return [[examples[i] for i in group] for group in indices]
    by_key: dict[str, list[Example]] = {}
    for example in examples:
        by_key.setdefault(dedup_key(example.text), []).append(example)
    return [group for group in by_key.values() if len(group) > 1]


def _count_repeats(group: list[Example], stats: Dedup) -> None:
    """Count each row after the first of a one-label group as an exact, normalised or near duplicate."""
    texts, keys = {group[0].text}, {dedup_key(group[0].text)}
    for example in group[1:]:
        key = dedup_key(example.text)
        if example.text in texts:
            stats.exact += 1
        elif key in keys:
            stats.normalised += 1
        else:
            stats.near += 1
        texts.add(example.text)
        keys.add(key)
    if variants := _variants(group):
        stats.near_groups.append(
            NearDuplicateGroup(group[0].source, group[0].label, [group[0].text, *variants], [e.line for e in group])
        )


def _variants(group: list[Example]) -> list[str]:
    """The first text of each normalised key after the first row's: empty unless the group holds near-duplicates."""
    first_text: dict[str, str] = {}
    for example in group:
        first_text.setdefault(dedup_key(example.text), example.text)
    first_text.pop(dedup_key(group[0].text))
    return list(first_text.values())


def remove_leakage(
    splits: dict[str, list[Example]], holders: dict[str, set[str]] | None = None
) -> tuple[dict[str, list[Example]], dict[str, int], int]:
    """Count the texts of each split that another split shares, and drop from train the rows whose text is in
    another split; `holders` (holding_splits(splits, near_duplicates)) decides what is shared, by default the
    same normalised text.

    Returns the splits, the shared count per pair ("train/test": 3, texts of test) and the number of train rows
    dropped.
    """
    holders = holders if holders is not None else holding_splits(splits)
    shared = {
        f"{a}/{b}": sum(a in holders[key] for key in {dedup_key(e.text) for e in splits[b]})
        for a, b in combinations(splits, 2)
    }
    train = [e for e in splits["train"] if holders[dedup_key(e.text)] == {"train"}]
    dropped = len(splits["train"]) - len(train)
    return {**splits, "train": train}, shared, dropped


def shared_texts(
    splits: dict[str, list[Example]], limit: int, holders: dict[str, set[str]] | None = None
) -> dict[str, list[str]]:
    """Up to `limit` example texts (as the later split of each pair has them) shared by each pair of splits;
    `holders` as in remove_leakage.

    >>> a, b = Example("Refund?", "refund", "t.csv", 2), Example("refund", "refund", "v.csv", 2)
    >>> shared_texts({"train": [a], "validation": [b]}, limit=3)
    {'train/validation': ['refund']}
    """
    holders = holders if holders is not None else holding_splits(splits)
    shared: dict[str, list[str]] = {}
    for a, b in combinations(splits, 2):
        texts = list(dict.fromkeys(e.text for e in splits[b] if a in holders[dedup_key(e.text)]))[:limit]
        if texts:
            shared[f"{a}/{b}"] = texts
    return shared


def holding_splits(splits: dict[str, list[Example]], near_duplicates: float | None = None) -> dict[str, set[str]]:
    """For each normalised key of any split, the splits that hold it, or with `near_duplicates` (a Jaccard
    threshold) a near-duplicate of it."""
    holders: dict[str, set[str]] = {}
    for name, examples in splits.items():
        for example in examples:
            holders.setdefault(dedup_key(example.text), set()).add(name)
    if near_duplicates is None:
        return holders
    # Only the keys of validation and test are indexed: pairs of train texts say nothing about leakage, and the
    # held-out splits are the small ones.
    index = NearDuplicateIndex(near_duplicates)
    index.add_many((key, key) for key, names in holders.items() if names != {"train"})  # dedup_key(key) == key
    near = {key: set(names) for key, names in holders.items()}
    for key in holders:
        for match in index.matches(key):
            near[key] |= holders[match]
            near[match] |= holders[key]
    return near
