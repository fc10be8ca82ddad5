"""The rows of a round: which feedback rows are new against the training history, the round's train/test split,
and the replay reservoir. Pure data work on a task's examples (`ContinualSpec.text` and `.label` read them)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneforge.data.near_dup import NearDuplicateIndex
from tuneforge.data.normalize import dedup_key
from tuneforge.tasks.base import ContinualSpec

__all__ = ["NewRows", "new_rows", "replay_sample", "split_round"]


@dataclass
class NewRows:
    """The feedback rows a round learns from, and what happened to the others."""

    rows: list[Any]
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> rows
    conflicts: int = 0  # texts that came with another label than before (the newest label is kept)
    superseded: set[int] = field(default_factory=set)  # indices of history rows a newer label replaces


def new_rows(
    feedback: Sequence[Any], history: Sequence[Any], spec: ContinualSpec, *, near_threshold: float | None
) -> NewRows:
    """Feedback rows (oldest first) that are not already in `history` with the same label: exact, normalised and
    (with `near_threshold`) near-duplicates count as the same text. A text seen again with another label is a
    conflict: the newest label wins, within the round and against the history rows it replaces."""
    result = NewRows([])
    history_keys: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(history):
        history_keys[dedup_key(spec.text(example))].append(index)
    history_near = NearDuplicateIndex(near_threshold) if near_threshold else None
    if history_near:
        history_near.add_many((i, spec.text(e)) for i, e in enumerate(history))
    round_keys: dict[str, Any] = {}  # key -> the answer kept (a label, entity spans, a reply)
    round_near = NearDuplicateIndex(near_threshold) if near_threshold else None
    kept: list[Any] = []
    for example in reversed(feedback):  # newest first: a text's newest label is the one kept
        text, label = spec.text(example), spec.answer(example)
        key = dedup_key(text)
        earlier = set(history_keys.get(key, ()))
        near = set(history_near.matches(text)) - earlier if history_near else set()
        newer = [round_keys[key]] if key in round_keys else []
        newer += [spec.answer(kept[i]) for i in round_near.matches(text)] if round_near and not newer else []
        if newer:
            result.dropped["an older duplicate of a newer feedback row"] += 1
            result.conflicts += label not in newer
            continue
        matches = earlier | near
        same = {i for i in matches if spec.answer(history[i]) == label}
        if same:
            exact = bool(same & earlier)
            result.dropped["already trained on" if exact else "a near-duplicate of a row trained on"] += 1
            continue
        if matches:
            result.conflicts += 1
            result.superseded |= matches
        round_keys[key] = label
        if round_near:
            round_near.add(len(kept), text)
        kept.append(example)
    result.rows = kept[::-1]
    return result


def split_round(rows: Sequence[Any], spec: ContinualSpec, *, test_share: float, seed: int) -> tuple[list, list]:
    """Round-train and round-test, stratified by label where every label has two rows or more; seeded."""
    from sklearn.model_selection import train_test_split  # imported here: slow

    labels = [spec.label(row) for row in rows]
    counts = Counter(labels)
    stratify = labels if None not in counts and min(counts.values()) >= 2 else None
    size = max(1, round(test_share * len(rows)))
    if stratify and size < len(counts):
        stratify = None  # fewer test rows than classes cannot be stratified
    indices = list(range(len(rows)))
    train, test = train_test_split(indices, test_size=size, random_state=seed, stratify=stratify)
    return [rows[i] for i in sorted(train)], [rows[i] for i in sorted(test)]


def replay_sample(
    history: Sequence[Any], spec: ContinualSpec, *, size: int, per_class_min: int, seed: int
) -> list[Any]:
    """A stratified sample of `size` history rows: each class in proportion to its share of the history, at
    least `per_class_min` (or all it has); rows without a label are sampled at random."""
    if size >= len(history):
        return list(history)
    rng = random.Random(seed)
    by_label: dict[str | None, list[int]] = defaultdict(list)
    for index, example in enumerate(history):
        by_label[spec.label(example)].append(index)
    if list(by_label) == [None]:
        return [history[i] for i in sorted(rng.sample(range(len(history)), size))]
    quota = {
        label: min(len(rows), max(per_class_min, round(size * len(rows) / len(history))))
        for label, rows in by_label.items()
    }
    while sum(quota.values()) > size:  # the minimums overshoot: trim the largest classes first
        largest = max(quota, key=lambda label: (quota[label] - per_class_min, quota[label]))
        if quota[largest] <= per_class_min:
            break
        quota[largest] -= 1
    chosen = [i for label, rows in by_label.items() for i in rng.sample(rows, quota[label])]
    return [history[i] for i in sorted(chosen)]
