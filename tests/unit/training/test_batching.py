import numpy as np

from tuneforge.training.batching import epoch_batches


def _padding(batches: list[list[int]], lengths: list[int]) -> float:
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return 1 - sum(lengths) / padded


def test_every_index_once_and_deterministic() -> None:
    lengths = list(np.random.default_rng(0).integers(3, 64, size=1000))
    for grouped in (True, False):
        first = epoch_batches(lengths, 32, seed=1, epoch=0, group_by_length=grouped)
        assert sorted(i for b in first for i in b) == list(range(1000))
        assert first == epoch_batches(lengths, 32, seed=1, epoch=0, group_by_length=grouped)
        assert first != epoch_batches(lengths, 32, seed=1, epoch=1, group_by_length=grouped)


def test_grouping_cuts_padding() -> None:
    lengths = list(np.random.default_rng(0).integers(3, 64, size=5000))
    grouped = _padding(epoch_batches(lengths, 32, seed=0, epoch=0), lengths)
    plain = _padding(epoch_batches(lengths, 32, seed=0, epoch=0, group_by_length=False), lengths)
    assert grouped < 0.05 < 0.3 < plain
