"""Text a tokenizer cannot represent: measured on the training data, and optionally added to the vocabulary.

English WordPiece vocabularies hold few Chinese characters (MiniLM, the default encoder, has 244; everyday
Chinese uses about 3,500); every other character becomes [UNK], so "退款" and "到账" encode to the same ids and
the model cannot tell them apart. The data report warns about it, and `extend_vocab: true` adds the unknown
characters of the training texts as new tokens whose embeddings full fine-tuning learns from the data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["coverage_warning", "extend_vocabulary", "unknown_pieces"]

_WARN_ABOVE = 0.01  # share of unknown tokens; BERT's own vocabulary leaves ~0.1% of English Wikipedia unknown
_SHOWN = 10


def unknown_pieces(tokenizer: Any, texts: Sequence[str]) -> tuple[Counter[str], int]:
    """The pieces of `texts` that `tokenizer` maps to its unknown token, with counts, and the number of tokens.

    Byte-level tokenizers (GPT-2, Llama 3, SmolLM2) never produce an unknown token; slow tokenizers give no
    offsets, so they are not measured.
    """
    unknown_id = tokenizer.unk_token_id
    if unknown_id is None or not texts or not getattr(tokenizer, "is_fast", False):
        return Counter(), 0
    encoded = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
    pieces: Counter[str] = Counter()
    total = 0
    for text, ids, offsets in zip(texts, encoded["input_ids"], encoded["offset_mapping"], strict=True):
        total += len(ids)
        pieces.update(text[start:end] for token, (start, end) in zip(ids, offsets, strict=True) if token == unknown_id)
    return pieces, total


def coverage_warning(tokenizer: Any, texts: Sequence[str], model: str) -> str | None:
    """A data-report warning when more than 1% of the training tokens are unknown to the tokenizer."""
    pieces, total = unknown_pieces(tokenizer, texts)
    unknown = sum(pieces.values())
    if not total or unknown / total <= _WARN_ABOVE:
        return None
    common = " ".join(piece for piece, _ in pieces.most_common(_SHOWN))
    return (
        f"{unknown / total:.1%} of the training tokens are unknown to the tokenizer of '{model}' "
        f"({len(pieces):,} distinct pieces, most common: {common}); the model sees them all as one token. "
        "Use a model whose vocabulary covers this text (e.g. bert-base-chinese or xlm-roberta-base for Chinese) "
        "or set extend_vocab: true"
    )


def extend_vocabulary(tokenizer: Any, texts: Sequence[str], *, min_count: int = 2) -> list[str]:
    """Add the unknown pieces seen at least `min_count` times in `texts` to `tokenizer`; return them.

    Pieces seen once stay unknown: an embedding learned from a single example is noise. The order is by
    frequency, then first appearance, so that the same data always gives the same new token ids (resume, DDP).
    """
    pieces, _ = unknown_pieces(tokenizer, texts)
    added = [piece for piece, count in pieces.most_common() if count >= min_count and piece.strip()]
    tokenizer.add_tokens(added)
    return added
