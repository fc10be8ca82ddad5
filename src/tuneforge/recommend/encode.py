"""Item and query texts as sentence vectors: the pretrained encoder, mean pooling over tokens, L2-normalised."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import torch

from tuneforge.models import resolve_model

__all__ = ["SentenceEncoder", "embedding_key"]


def embedding_key(model: str, max_length: int, texts: list[str]) -> str:
    """Fingerprint of what the item vectors depend on, so a later run can reuse them."""
    payload = json.dumps([resolve_model(model), max_length, texts], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:16]


class SentenceEncoder:
    """Mean pooling of the last hidden states, as sentence-transformers' all-MiniLM-L6-v2 was trained."""

    def __init__(self, model: str, max_length: int) -> None:
        from transformers import AutoModel, AutoTokenizer

        path = resolve_model(model)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.max_length = max_length

    @torch.inference_mode()
    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch
        vectors = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch = self.tokenizer(
                [texts[i] for i in chosen],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            vectors[chosen] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return vectors
