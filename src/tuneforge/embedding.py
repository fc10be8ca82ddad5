"""Sentence embeddings: a pretrained encoder's last layer, mean-pooled over the attention mask, L2-normalised.

That is what sentence-transformers computes for all-MiniLM-L6-v2 (Pooling(mean) + Normalize), so the packaged
MiniLM embeds here exactly as it was trained to. Used by few-shot classification (SetFit, zero-shot by
similarity) and by the recommender's item and query texts; a logistic-regression head on such vectors is here
too, for SetFit and the linear probe.

>>> encoder, tokenizer = load_encoder("minilm")  # doctest: +SKIP
>>> encode_texts(encoder, tokenizer, ["a parcel is late", "refund please"], max_length=128).shape  # doctest: +SKIP
torch.Size([2, 384])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from tuneforge.models import resolve_model

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["SentenceEncoder", "encode_texts", "linear_head", "load_encoder", "logistic_head", "mean_pool"]


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The mean of each text's token vectors (`hidden`: batch × tokens × dim), padding left out."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class SentenceEncoder(torch.nn.Module):
    """A pretrained encoder (`AutoModel`) whose output is one normalised vector per text; trainable (SetFit)."""

    def __init__(self, body: torch.nn.Module) -> None:
        super().__init__()
        self.body = body

    @classmethod
    def from_pretrained(cls, model: str | Path) -> SentenceEncoder:
        """The encoder of `model`: an alias, a local Hugging Face dir or a hub id (see `resolve_model`)."""
        from transformers import AutoModel

        return cls(AutoModel.from_pretrained(resolve_model(str(model))))

    @property
    def dim(self) -> int:
        return int(self.body.config.hidden_size)

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.body.get_input_embeddings()  # where train.adversarial perturbs the input

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return torch.nn.functional.normalize(mean_pool(hidden, attention_mask).float(), dim=-1)


def load_encoder(model: str | Path) -> tuple[SentenceEncoder, PreTrainedTokenizerBase]:
    """The encoder of `model` and its tokenizer, from the same resolved place."""
    from transformers import AutoTokenizer

    path = resolve_model(str(model))
    return SentenceEncoder.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def encode_texts(
    encoder: SentenceEncoder,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    max_length: int,
    batch_size: int = 64,
) -> torch.Tensor:
    """The embeddings of `texts` (truncated to `max_length` tokens), one float32 row each on the CPU, computed
    in eval mode on the encoder's device in batches of `batch_size`, longest texts first so that a batch holds
    texts of similar length (little padding) and the largest batch comes first."""
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"] if texts else []
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(encoder.parameters()).device
    out = torch.zeros(len(ids), encoder.dim)
    encoder.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            rows = [torch.tensor(ids[i], dtype=torch.long) for i in chosen]
            input_ids = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=pad_id)
            mask = torch.nn.utils.rnn.pad_sequence([torch.ones_like(row) for row in rows], batch_first=True)
            out[chosen] = encoder(input_ids.to(device), mask.to(device)).cpu()
    return out


def linear_head(weight: torch.Tensor, bias: torch.Tensor) -> torch.nn.Linear:
    """A linear layer with the given weight (labels × dim) and bias."""
    head = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.copy_(bias)
    return head


def logistic_head(x: np.ndarray, y: np.ndarray, n_labels: int, c: float) -> torch.nn.Linear:
    """A linear layer whose softmax is a logistic regression's predicted probability (fitted on x, y)."""
    from sklearn.linear_model import LogisticRegression

    regression = LogisticRegression(C=c, max_iter=1000).fit(x, y)
    coef, intercept = regression.coef_, regression.intercept_
    if n_labels == 2:  # scikit-learn keeps one row, the second class's; softmax([0, d]) = sigmoid(d)
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.array([0.0, intercept[0]])
    return linear_head(torch.tensor(coef, dtype=torch.float32), torch.tensor(intercept, dtype=torch.float32))
