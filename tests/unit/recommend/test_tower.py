"""The two-tower model: text-only scores for held-out items, history padding, next-item examples."""

import numpy as np
import torch

from tuneforge.config.recommend import TowerConfig
from tuneforge.tasks.recommendation.tower import TwoTower, collate, next_item_examples, next_item_loss, pad_history


def test_history_is_right_aligned_and_truncated_to_the_most_recent() -> None:
    assert pad_history([4, 5], 4) == [0, 0, 5, 6]
    assert pad_history([1, 2, 3, 4, 5], 3) == [4, 5, 6]


def test_next_item_examples_use_only_earlier_items_and_the_window() -> None:
    examples = next_item_examples([[7, 8, 9, 10]], length=2, window=None)
    assert [(e["input_ids"], e["labels"]) for e in examples] == [([0, 8], 8), ([8, 9], 9), ([9, 10], 10)]
    assert [e["labels"] for e in next_item_examples([[7, 8, 9, 10]], length=2, window=2)] == [9, 10]


def test_held_out_items_score_from_text_alone_and_are_never_trained_on() -> None:
    torch.manual_seed(0)
    vectors = np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32)
    trained = np.array([True, True, True, True, False, False])
    model = TwoTower(vectors, TowerConfig(dim=8, history=3, dropout=0.0), trained)
    batch = collate(next_item_examples([[0, 1, 2, 3], [1, 2, 3, 0]], length=3, window=None))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(5):
        optimizer.zero_grad()
        loss = next_item_loss(model, batch)
        loss.backward()
        optimizer.step()
    assert torch.isfinite(loss)
    assert model.item_ids.weight.grad[4:].abs().sum() == 0 and model.item_bias.grad[4:].abs().sum() == 0
    with torch.no_grad():
        text_only = model.text_vectors(model.text)
        assert torch.equal(model.item_vectors()[4:], text_only[4:])
        assert torch.equal(model.item_vectors()[:4], text_only[:4] + model.item_ids.weight[:4])
