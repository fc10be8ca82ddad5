"""The cache key of item-text vectors (runs/.embeddings/): what the vectors from `tuneforge.embedding` depend on."""

from __future__ import annotations

import hashlib
import json

from tuneforge.models import resolve_model

__all__ = ["embedding_key"]


def embedding_key(model: str, max_length: int, texts: list[str]) -> str:
    """Fingerprint of what the item vectors depend on, so a later run can reuse them."""
    payload = json.dumps([resolve_model(model), max_length, texts], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:16]
