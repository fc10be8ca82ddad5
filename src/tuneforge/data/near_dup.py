"""Near-duplicate texts: Jaccard similarity of character 3-gram shingles of the normalised key (`dedup_key`).

MinHash LSH (datasketch) only proposes candidates; each is confirmed by the exact Jaccard of the shingle sets, so a
match is exact at the threshold and the same in every run (fixed seed, a hash independent of PYTHONHASHSEED).
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, cast

from tuneforge.data.normalize import dedup_key

if TYPE_CHECKING:
    from datasketch import MinHash

__all__ = ["NearDuplicateIndex", "jaccard", "near_duplicate_groups"]

# Characters, not words, so that Chinese needs no segmentation. At 3, "Where's my parcel? It has not arrived yet." /
# "Where is my parcel? it has not arrived yet" score 0.85 (4: 0.79, under a 0.8 threshold) while "cancel my card" /
# "activate my card" score 0.22.
SHINGLE_SIZE = 3
_NUM_PERM = 128  # datasketch's default; 64 is faster at 0.8 but, with 2 rows a band at 0.5, 3x slower there
_SEED = 1  # fixed: the same permutations, hence the same candidates, in every run
# Chance that a pair exactly at the threshold becomes a candidate; more similar pairs are likelier still.
_RECALL = 0.99


def _shingles(text: str) -> frozenset[str]:
    key = dedup_key(text)
    # A key shorter than a shingle is one shingle: "ok" stays comparable with "ok" rather than empty.
    return frozenset(key[i : i + SHINGLE_SIZE] for i in range(max(1, len(key) - SHINGLE_SIZE + 1)))


def _hash(shingle: str) -> int:
    # CRC-32, not hash(): the same value in every process. datasketch mixes it (fmix) before permuting.
    return zlib.crc32(shingle.encode("utf-8"))


def _set_jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b)


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of the character 3-gram shingles of two texts' normalised keys.

    >>> jaccard("Where is my order?", "where is my ORDER"), round(jaccard("cancel my card", "activate my card"), 2)
    (1.0, 0.22)
    """
    return _set_jaccard(_shingles(a), _shingles(b))


def _bands(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) with the most rows (fewest false candidates) that still find a pair at the threshold
    with probability _RECALL; datasketch's own choice weighs misses and false candidates equally."""
    for rows in range(_NUM_PERM // 2, 0, -1):
        bands = _NUM_PERM // rows
        if 1 - (1 - threshold**rows) ** bands >= _RECALL:
            return bands, rows
    return _NUM_PERM, 1


class NearDuplicateIndex:
    """Texts added once under a key, then queried many times for the keys of their near-duplicates.

    >>> index = NearDuplicateIndex(threshold=0.8)
    >>> index.add_many([(1, "Where's my parcel? It has not arrived yet."), (2, "cancel my card")])
    >>> index.matches("Where is my parcel? it has not arrived yet"), index.matches("activate my card")
    ([1], [])
    """

    def __init__(self, threshold: float) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        # Imported here: datasketch loads scipy.integrate (about a second), needed only when the option is on.
        from datasketch import MinHash, MinHashLSH

        self.threshold = threshold
        self._lsh = MinHashLSH(num_perm=_NUM_PERM, params=_bands(threshold))
        self._empty = MinHash(num_perm=_NUM_PERM, seed=_SEED, hashfunc=_hash)
        self._shingles: dict[Hashable, frozenset[str]] = {}
        self._position: dict[Hashable, int] = {}  # order of addition: breaks ties between equal scores

    def add(self, key: Hashable, text: str) -> None:
        self.add_many([(key, text)])

    def add_many(self, items: Iterable[tuple[Hashable, str]]) -> None:
        """Index each (key, text); a key already indexed, or given twice, is a ValueError and nothing is added."""
        batch: dict[Hashable, frozenset[str]] = {}
        for key, text in items:
            if key in self._shingles or key in batch:
                raise ValueError(f"key {key!r} is already indexed")
            batch[key] = _shingles(text)
        for key, shingles in batch.items():
            self._insert(key, shingles, self._minhash(shingles))

    def matches(self, text: str) -> list[Hashable]:
        """Keys of the indexed texts whose exact Jaccard with `text` is >= threshold, most similar first (ties in
        the order they were added)."""
        shingles = _shingles(text)
        return self._query(shingles, self._minhash(shingles))

    def _insert(self, key: Hashable, shingles: frozenset[str], minhash: MinHash) -> None:
        self._lsh.insert(key, minhash, check_duplication=False)
        self._shingles[key] = shingles
        self._position[key] = len(self._position)

    def _query(self, shingles: frozenset[str], minhash: MinHash) -> list[Hashable]:
        scored = []
        for key in self._lsh.query(minhash):
            score = _set_jaccard(shingles, self._shingles[key])
            if score >= self.threshold:
                scored.append((-score, self._position[key], key))
        return [key for _, _, key in sorted(scored, key=lambda s: s[:2])]

    def _minhash(self, shingles: frozenset[str]) -> MinHash:
        minhash = self._empty.copy()  # copies share the permutations instead of drawing them again
        minhash.update_batch(shingles)
        return minhash


def near_duplicate_groups(texts: Sequence[str], threshold: float) -> list[list[int]]:
    """Indices of the texts connected by Jaccard >= threshold (directly or through others), per group of two or
    more, each group ascending and the groups in the order of their first index. Equal keys always group.

    >>> near_duplicate_groups(["cancel my card", "Cancel my card!", "activate my card", "cancel my card."], 0.8)
    [[0, 1, 3]]
    """
    by_key: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        by_key.setdefault(dedup_key(text), []).append(i)
    keys = list(by_key)  # each distinct key once: repeats would crowd the LSH buckets
    index = NearDuplicateIndex(threshold)
    parent = list(range(len(keys)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Each key is matched against the earlier ones, then added: every pair is checked once, each MinHash made once.
    for i, key in enumerate(keys):
        shingles = _shingles(key)
        minhash = index._minhash(shingles)
        for j in index._query(shingles, minhash):
            a, b = root(i), root(cast(int, j))  # the keys added here are ints
            parent[max(a, b)] = min(a, b)
        index._insert(i, shingles, minhash)
    members: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        members.setdefault(root(i), []).extend(by_key[key])
    groups = [sorted(group) for group in members.values() if len(group) > 1]
    return sorted(groups, key=lambda group: group[0])
