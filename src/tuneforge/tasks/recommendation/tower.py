"""The language-model recommender: a two-tower model over frozen sentence-encoder item vectors.

Item tower: an MLP on the item's text vector, plus a learned id vector for items seen in training (zero for
the rest, so held-out items score from their text alone). User tower: the item vectors of the user's last
`history` items plus a learned vector per recency position, pooled by attention queried with the most recent
item, then joined with that item through an MLP: recency decides most of the next item on leave-last-out.
Score: scaled cosine similarity of user and item vectors, plus a learned bias per item seen in training
(popularity). Trained on next-item prediction with a softmax over all items (no sampled negatives).
The encoder itself stays frozen: its item vectors are computed once, which is what fits a 2-core CPU.

Why pooling and not a transformer layer: forward + backward of one transformer layer on a batch of 256 x 30
items took 1.5 s on the shared 2-core CPU, the whole user tower here 0.5 s (each measured once).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from tuneforge.config.recommend import TowerConfig

__all__ = ["TowerScorer", "TwoTower", "collate", "next_item_examples", "next_item_loss", "pad_history"]


class TwoTower(nn.Module):
    def __init__(self, text_vectors: np.ndarray, cfg: TowerConfig, trained_items: np.ndarray) -> None:
        super().__init__()
        n_items, hidden = text_vectors.shape
        # Not in the state dict: the vectors are saved once, beside the weights, and reused by predict.
        self.register_buffer("text", torch.from_numpy(text_vectors), persistent=False)
        self.register_buffer("trained", torch.from_numpy(trained_items.astype(np.float32)), persistent=False)
        self.item_mlp = nn.Sequential(nn.Linear(hidden, cfg.dim), nn.GELU(), nn.Linear(cfg.dim, cfg.dim))
        self.item_ids = nn.Embedding(n_items, cfg.dim) if cfg.id_embeddings else None
        self.item_bias = nn.Parameter(torch.zeros(n_items)) if cfg.id_embeddings else None
        if self.item_ids is not None:
            nn.init.zeros_(self.item_ids.weight)  # untrained items keep a zero id vector: text alone
        # Cosine similarity over a temperature: 1/0.05 = 20 is the usual start for contrastive two-towers
        # (Yi et al. 2019, sampling-bias-corrected two-tower); it is learned from there.
        self.log_scale = nn.Parameter(torch.tensor(math.log(20.0)))
        self.positions = nn.Embedding(cfg.history, cfg.dim)
        self.query = nn.Linear(cfg.dim, cfg.dim)  # what the most recent item asks of the older ones
        self.keys = nn.Linear(cfg.dim, cfg.dim)
        self.user_mlp = nn.Sequential(
            nn.Dropout(cfg.dropout), nn.Linear(2 * cfg.dim, 2 * cfg.dim), nn.GELU(), nn.Linear(2 * cfg.dim, cfg.dim)
        )
        self.norm = nn.LayerNorm(cfg.dim)

    def text_vectors(self, text: torch.Tensor) -> torch.Tensor:
        """Item-tower vectors of texts alone (new items, free-text queries)."""
        return self.item_mlp(text)

    def item_vectors(self) -> torch.Tensor:
        vectors = self.text_vectors(self.text)
        if self.item_ids is not None:
            vectors = vectors + self.item_ids.weight * self.trained.unsqueeze(1)
        return vectors

    def scores(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scaled cosine similarity, plus a learned popularity bias for items seen in training (0 for others)."""
        cosine = nn.functional.normalize(users, dim=-1) @ nn.functional.normalize(items, dim=-1).T
        scores = cosine * self.log_scale.exp()
        return scores if self.item_bias is None else scores + self.item_bias * self.trained

    def user_vectors(self, history: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """`history` [B, L] holds item index + 1, right-aligned, 0 for padding; `items` the item vectors."""
        padded = torch.cat([items.new_zeros(1, items.shape[1]), items])
        return self.encode_history(padded[history], history == 0)

    def encode_history(self, vectors: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """Attention pooling of the history, queried by the most recent item, joined with that item itself."""
        length = vectors.shape[1]
        states = vectors + self.positions.weight[-length:]  # the last position is always the most recent item
        last = states[:, -1]
        logits = (self.keys(states) @ self.query(last).unsqueeze(-1)).squeeze(-1) / states.shape[-1] ** 0.5
        weights = torch.softmax(logits.masked_fill(padding, float("-inf")), dim=-1)
        profile = (weights.unsqueeze(-1) * states).sum(1)
        return self.norm(last + self.user_mlp(torch.cat([profile, last], dim=-1)))

    def forward(self, history: torch.Tensor) -> torch.Tensor:
        items = self.item_vectors()
        return self.scores(self.user_vectors(history, items), items)


def pad_history(items: list[int], length: int) -> list[int]:
    recent = [i + 1 for i in items[-length:]]
    return [0] * (length - len(recent)) + recent


def next_item_examples(train: list[list[int]], length: int, window: int | None) -> list[dict[str, Any]]:
    """Each of a user's last `window` items (all but the first when None) is a target, from the items before it."""
    return [
        {"input_ids": pad_history(items[:t], length), "labels": items[t]}
        for items in train
        for t in range(max(1, len(items) - window if window else 1), len(items))
    ]


def collate(features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    history = torch.tensor([f["input_ids"] for f in features])
    return {
        "input_ids": history,
        "attention_mask": (history > 0).long(),
        "labels": torch.tensor([f["labels"] for f in features]),
    }


def next_item_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Softmax over every item seen in training; held-out items are never candidates, so never trained on."""
    logits = model(batch["input_ids"])
    trained = model.module.trained if hasattr(model, "module") else model.trained
    logits = logits.masked_fill(~trained.bool(), float("-inf"))
    return nn.functional.cross_entropy(logits, batch["labels"])


class TowerScorer:
    """The Scorer interface of metrics.py over a TwoTower: users are scored from their histories."""

    def __init__(self, model: TwoTower, history: int) -> None:
        self.model, self.history = model, history

    @torch.inference_mode()
    def score(self, users: list[int], histories: list[list[int]]) -> np.ndarray:
        was_training = self.model.training
        self.model.eval()
        items = self.model.item_vectors()
        batch = torch.tensor([pad_history(h, self.history) for h in histories])
        scores = self.model.scores(self.model.user_vectors(batch, items), items).numpy()
        self.model.train(was_training)
        return scores
