"""The shared sentence encoder: masked mean pooling, normalised vectors in the texts' own order."""

from pathlib import Path

import torch

from tuneforge.embedding import encode_texts, load_encoder, mean_pool

TEXTS = ["a parcel is late", "refund", "where is my order number 1234, it was due last week", ""]


def test_mean_pool_leaves_padding_out() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    assert torch.equal(mean_pool(hidden, torch.tensor([[1, 1, 0]])), torch.tensor([[2.0, 3.0]]))


def test_texts_come_back_in_order_normalised_whatever_the_batching(tiny_model_dir: Path) -> None:
    encoder, tokenizer = load_encoder(tiny_model_dir)
    together = encode_texts(encoder, tokenizer, TEXTS, max_length=16, batch_size=64)
    assert together.shape == (len(TEXTS), encoder.dim) and together.dtype == torch.float32
    assert torch.allclose(together.norm(dim=-1), torch.ones(len(TEXTS)))
    alone = torch.cat([encode_texts(encoder, tokenizer, [t], max_length=16) for t in TEXTS])
    assert torch.allclose(together, alone, atol=1e-6)  # padding changes nothing but rounding
    assert encode_texts(encoder, tokenizer, [], max_length=16).shape == (0, encoder.dim)
