"""Sentence embeddings and the classifier on top of them, shared by zero-shot by similarity and SetFit.

The embedding is the mean of the last layer's token vectors over the attention mask, L2-normalised: what
sentence-transformers computes for all-MiniLM-L6-v2 (Pooling(mean) + Normalize), so the packaged MiniLM embeds
here exactly as it was trained to.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer
from transformers.modeling_outputs import SequenceClassifierOutput

from tuneforge.tasks.text_classification import TextClassification, collate

__all__ = [
    "EmbeddingClassifier",
    "SentenceEncoder",
    "embed",
    "encoder_task",
    "linear_head",
    "load_head",
    "logistic_head",
    "save_head",
]

HEAD_FILE = "head.safetensors"


class SentenceEncoder(torch.nn.Module):
    """A pretrained encoder (`AutoModel`) whose output is one normalised vector per text."""

    def __init__(self, body: torch.nn.Module) -> None:
        super().__init__()
        self.body = body

    @classmethod
    def from_pretrained(cls, path: str | Path) -> SentenceEncoder:
        return cls(AutoModel.from_pretrained(path))

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.body.get_input_embeddings()  # where train.adversarial perturbs the input

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)


class EmbeddingClassifier(torch.nn.Module):
    """Label scores as a linear map of the sentence embedding: `head(encoder(text))`.

    Zero-shot: the head's rows are the labels' embeddings (scores are scaled cosine similarities); SetFit: they
    are a logistic regression's coefficients, so the softmax of the scores is its predicted probability.
    """

    def __init__(self, encoder: SentenceEncoder, head: torch.nn.Linear) -> None:
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object) -> SequenceClassifierOutput:
        return SequenceClassifierOutput(logits=self.head(self.encoder(input_ids, attention_mask)))


def encoder_task(model_path: str | Path, labels: list[str], max_length: int) -> TextClassification:
    """The task that tokenizes texts for the encoder at `model_path` ([CLS] text [SEP], truncated)."""
    return TextClassification(AutoTokenizer.from_pretrained(model_path), labels, max_length, None)


def embed(encoder: SentenceEncoder, task: TextClassification, texts: Sequence[str], batch_size: int) -> torch.Tensor:
    """Embeddings of `texts`, one row each, computed in batches of similar length."""
    features = task.encode(texts)
    order = sorted(range(len(features)), key=lambda i: -len(features[i]["input_ids"]))
    device = next(encoder.parameters()).device
    out = torch.zeros(len(features), encoder.body.config.hidden_size)
    encoder.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            batch = collate([features[i] for i in indices], task.pad_id)
            out[indices] = encoder(batch["input_ids"].to(device), batch["attention_mask"].to(device)).cpu()
    return out


def linear_head(weight: torch.Tensor, bias: torch.Tensor) -> torch.nn.Linear:
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


def save_head(head: torch.nn.Linear, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {"weight": head.weight.detach().cpu().contiguous(), "bias": head.bias.detach().cpu().contiguous()}
    save_file(tensors, folder / HEAD_FILE)


def load_head(folder: Path) -> torch.nn.Linear:
    tensors = load_file(folder / HEAD_FILE)
    return linear_head(tensors["weight"], tensors["bias"])
