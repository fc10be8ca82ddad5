"""Duplicates within a file and leakage between splits, both judged on the normalised key of a text."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from tuneforge.data.normalize import dedup_key
from tuneforge.data.rows import Example

__all__ = ["ConflictGroup", "Dedup", "dedup", "remove_leakage", "shared_texts"]


@dataclass
class ConflictGroup:
    """Rows with the same normalised text but different labels."""

    source: str
    text: str
    labels: dict[str, int]
    kept: str | None  # the majority label, whose first row is kept; None on a tie, when the whole group is dropped
    lines: list[int]


@dataclass
class Dedup:
    """What dedup dropped: rows per reason, and every group whose labels conflict."""

    exact: int = 0  # same text and label as an earlier row
    normalised: int = 0  # same text up to case, punctuation, spaces and width, and the same label
    conflicting: int = 0  # rows dropped from groups whose labels disagree
    conflicts: list[ConflictGroup] = field(default_factory=list)


def dedup(examples: list[Example]) -> tuple[list[Example], Dedup]:
    """Keep the first row of each group of duplicates; a group with conflicting labels keeps the first row of
    its majority label, or nothing on a tie. The order of the kept rows is unchanged.

    >>> a, b = Example("Refund?", "refund", "t.csv", 2), Example("refund", "refund", "t.csv", 3)
    >>> kept, stats = dedup([a, b])
    >>> kept == [a], stats.normalised
    (True, 1)
    """
    groups: dict[str, list[Example]] = {}
    for example in examples:
        groups.setdefault(dedup_key(example.text), []).append(example)
    stats = Dedup()
    kept: set[Example] = set()
    for group in groups.values():
        labels = Counter(e.label for e in group)
        if len(labels) == 1:
            kept.add(group[0])
            seen: set[str] = set()
            exact = 0
            for example in group:
                exact += example.text in seen
                seen.add(example.text)
            stats.exact += exact
            stats.normalised += len(group) - 1 - exact
            continue
        (top, top_count), (_, second_count) = labels.most_common(2)
        winner = top if top_count > second_count else None
        if winner is not None:
            kept.add(next(e for e in group if e.label == winner))
        stats.conflicting += len(group) - (winner is not None)
        stats.conflicts.append(
            ConflictGroup(group[0].source, group[0].text, dict(labels), winner, [e.line for e in group])
        )
    return [e for e in examples if e in kept], stats


def remove_leakage(splits: dict[str, list[Example]]) -> tuple[dict[str, list[Example]], dict[str, int], int]:
    """Count texts shared by each pair of splits, and drop from train the rows whose text is in another split.

    Returns the splits, the shared count per pair ("train/test": 3) and the number of train rows dropped.
    """
    keys = {name: {dedup_key(e.text) for e in examples} for name, examples in splits.items()}
    shared = {f"{a}/{b}": len(keys[a] & keys[b]) for a, b in combinations(splits, 2)}
    held_out: set[str] = set().union(*(k for name, k in keys.items() if name != "train"))
    train = [e for e in splits["train"] if dedup_key(e.text) not in held_out]
    dropped = len(splits["train"]) - len(train)
    return {**splits, "train": train}, shared, dropped


def shared_texts(splits: dict[str, list[Example]], limit: int) -> dict[str, list[str]]:
    """Up to `limit` example texts (as the later split of each pair has them) shared by each pair of splits.

    >>> a, b = Example("Refund?", "refund", "t.csv", 2), Example("refund", "refund", "v.csv", 2)
    >>> shared_texts({"train": [a], "validation": [b]}, limit=3)
    {'train/validation': ['refund']}
    """
    keys = {name: {dedup_key(e.text) for e in examples} for name, examples in splits.items()}
    shared: dict[str, list[str]] = {}
    for a, b in combinations(splits, 2):
        texts = list(dict.fromkeys(e.text for e in splits[b] if dedup_key(e.text) in keys[a]))[:limit]
        if texts:
            shared[f"{a}/{b}"] = texts
    return shared
