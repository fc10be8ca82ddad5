"""The protocol: cold items held out entirely, then per-user leave-last-out by time on the remaining items."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from tuneforge.tasks.recommendation.data import Interactions

__all__ = ["ColdCase", "Split", "split_interactions"]


@dataclass(frozen=True)
class ColdCase:
    """A user's last interaction with a held-out item, and the warm items they had before it."""

    user: int
    history: list[int]
    target: int


@dataclass
class Split:
    users: list[str]
    train: list[list[int]]  # per user: warm items before the last two, oldest first
    validation: list[int | None]  # second-to-last warm item; None for users with fewer than 3
    test: list[int | None]  # last warm item
    cold_items: np.ndarray  # catalogue indices never shown to any model in training
    cold_cases: list[ColdCase]

    def history(self, user: int, stage: str) -> list[int]:
        """Items a user is known to have seen when predicting `stage` ('validation', 'test' or 'all')."""
        seen = list(self.train[user])
        if stage in ("test", "all") and self.validation[user] is not None:
            seen.append(self.validation[user])
        if stage == "all" and self.test[user] is not None:
            seen.append(self.test[user])
        return seen


def _pick_cold(items: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    interacted = np.unique(items)
    count = round(fraction * len(interacted))
    return np.sort(np.random.default_rng(seed).choice(interacted, size=count, replace=False))


def split_interactions(data: Interactions, n_items: int, cold_fraction: float, seed: int) -> Split:
    """Leave-last-out: a user's last warm item is test, the one before validation, the rest train."""
    cold = _pick_cold(data.items, cold_fraction, seed)
    is_cold = np.zeros(n_items, dtype=bool)
    is_cold[cold] = True
    split = Split([], [], [], [], cold, [])
    # Rows are sorted by user, then time: each user's rows are one run.
    for user, rows in itertools.groupby(range(len(data.users)), key=data.users.__getitem__):
        positions = list(rows)
        _add_user(split, user, data.items[positions[0] : positions[-1] + 1].tolist(), is_cold)
    return split


def _add_user(split: Split, user: str, items: list[int], is_cold: np.ndarray) -> None:
    index = len(split.users)
    split.users.append(user)
    warm = [i for i in items if not is_cold[i]]
    if len(warm) >= 3:
        split.train.append(warm[:-2])
        split.validation.append(warm[-2])
        split.test.append(warm[-1])
    else:
        split.train.append(warm)
        split.validation.append(None)
        split.test.append(None)
    cold_positions = [p for p, i in enumerate(items) if is_cold[i]]
    if cold_positions:
        last = cold_positions[-1]
        history = [i for i in items[:last] if not is_cold[i]]
        if history:
            split.cold_cases.append(ColdCase(index, history, items[last]))
