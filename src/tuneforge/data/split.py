"""Split validation and test sets off the training rows: seeded, and stratified by label when asked."""

from __future__ import annotations

import math
from collections import Counter

from tuneforge.config import SplitConfig
from tuneforge.data.rows import Example

__all__ = ["split_off"]


def split_off(
    train: list[Example], cfg: SplitConfig, *, validation: bool, test: bool
) -> tuple[dict[str, list[Example]], list[str]]:
    """Split the requested held-out sets off `train`; shares are of all of `train`. Returns splits and warnings.

    Classes with fewer rows than there are splits cannot be spread over them and stay in train, with a warning.
    Each split keeps the file order of its rows. The same seed gives the same splits.

    >>> rows = [Example(f"t{i}", "ab"[i % 2], "t.csv", i + 2) for i in range(20)]
    >>> splits, _ = split_off(rows, SplitConfig(validation=0.1, test=0.1), validation=True, test=True)
    >>> [len(splits[name]) for name in ("train", "validation", "test")]
    [16, 2, 2]
    """
    warnings: list[str] = []
    wanted = {
        name: share for name, share, on in (("test", cfg.test, test), ("validation", cfg.validation, validation)) if on
    }
    aside, pool = _too_small(train, 1 + len(wanted), cfg.stratify, warnings)
    splits: dict[str, list[Example]] = {}
    for name, share in wanted.items():
        size = math.ceil(share * len(train))
        pool, splits[name] = _take(pool, size, name, cfg, warnings)
    order = {example: index for index, example in enumerate(train)}
    splits["train"] = sorted(aside + pool, key=order.__getitem__)
    return {name: sorted(rows, key=order.__getitem__) for name, rows in splits.items()}, warnings


def _too_small(
    rows: list[Example], parts: int, stratify: bool, warnings: list[str]
) -> tuple[list[Example], list[Example]]:
    """Set aside the rows of classes too small to appear in every part; they go to train."""
    if not stratify:
        return [], rows
    counts = Counter(e.label for e in rows)
    small = {label for label, count in counts.items() if count < parts}
    for label in sorted(small):
        warnings.append(
            f"class '{label}' has {counts[label]} row(s), too few to stratify over {parts} splits: all kept in train"
        )
    return [e for e in rows if e.label in small], [e for e in rows if e.label not in small]


def _take(
    pool: list[Example], size: int, name: str, cfg: SplitConfig, warnings: list[str]
) -> tuple[list[Example], list[Example]]:
    """Split `size` rows off `pool`, stratified when every class can still be represented on both sides."""
    if size <= 0:  # a share of 0 asks for no split
        return pool, []
    if size >= len(pool):
        warnings.append(f"only {len(pool)} training row(s) left: no {name} split made")
        return pool, []
    labels = [e.label for e in pool]
    classes = len(set(labels))
    stratify = cfg.stratify and min(Counter(labels).values()) >= 2 and classes <= min(size, len(pool) - size)
    if cfg.stratify and not stratify:
        warnings.append(f"{name}: {size} row(s) for {classes} classes are too few to stratify; split at random")
    from sklearn.model_selection import train_test_split  # imported here: slow, and unused when files are given

    rest, held = train_test_split(pool, test_size=size, random_state=cfg.seed, stratify=labels if stratify else None)
    return rest, held
