"""Batches of encoded chats: padded rows, or packed rows that hold several examples without padding between them.

Packing relies on transformers' packed-sequence support (masking_utils.find_packed_sequence_indices, used by
Llama, Qwen2, Mistral, ... in transformers 5): with `position_ids` restarting at 0 for every example and no
`attention_mask`, the causal mask becomes block-diagonal, so no token attends to another example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from tuneforge.tasks.causal_lm_sft.format import IGNORE
from tuneforge.training.batching import pack_batch

__all__ = ["causal_lm_loss", "pack_collate", "pad_collate", "token_losses"]

Feature = dict[str, Any]


def pad_collate(features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    """One example per row, padded on the right to the longest of the batch."""
    width = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    labels = torch.full((len(features), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for row, feature in enumerate(features):
        n = len(feature["input_ids"])
        ids[row, :n] = torch.tensor(feature["input_ids"])
        labels[row, :n] = torch.tensor(feature["labels"])
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def pack_collate(features: Sequence[Feature], pad_id: int, row_tokens: int | None = None) -> dict[str, torch.Tensor]:
    """The batch's examples packed into as few rows of at most `row_tokens` tokens (default: the longest
    example's) as fit.

    Positions restart at 0 for each example and the first token of each example is left out of the loss, so the
    loss of every example equals its loss unpacked. The tail padding of a row is a segment of its own.
    `real_tokens` counts the examples' tokens for the loop's tokens/s.
    """
    batch = pack_batch(features, pad_id, row_tokens, shift=True)
    del batch["blocks"]  # the causal mask follows position_ids: transformers finds packed sequences by them
    return batch


# Decoders whose logits are exactly lm_head(last hidden state): no soft-capping or scaling after the head.
_PLAIN_HEADS = {"llama", "mistral", "qwen2", "qwen3", "smollm3", "olmo2"}


def _body_and_head(model: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module] | None:
    """The decoder stack and lm_head of a plain causal LM (PEFT-wrapped or not); None where that is unsafe."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # LoRA layers sit inside it
    config = getattr(inner, "config", None)
    if config is None or config.model_type not in _PLAIN_HEADS:
        return None
    body, head = getattr(inner, "model", None), inner.get_output_embeddings()
    return (body, head) if body is not None and head is not None else None


def token_losses(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token cross-entropy of next-token prediction and its mask (True where the token is learned).

    For plain decoders the vocabulary projection runs on the learned positions only: the answer tokens are
    typically under half of a chat, and SmolLM2's 49k-word head is a fifth of its forward pass.
    """
    device = next(model.parameters()).device
    inputs = {k: v.to(device) for k, v in batch.items() if k not in ("labels", "real_tokens")}
    targets = batch["labels"][:, 1:].to(device)
    mask = targets != IGNORE
    parts = _body_and_head(model)
    if parts is None:  # e.g. under DDP, whose gradient hooks need the wrapper's own forward
        logits = model(**inputs, use_cache=False).logits[:, :-1][mask].float()
    else:
        body, head = parts
        hidden = body(**inputs, use_cache=False).last_hidden_state[:, :-1]
        logits = head(hidden[mask]).float()
    losses = torch.zeros(targets.shape, dtype=logits.dtype, device=device)
    losses[mask] = torch.nn.functional.cross_entropy(logits, targets[mask], reduction="none")
    return losses, mask


def causal_lm_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean loss over the batch's learned (assistant) tokens."""
    losses, mask = token_losses(model, batch)
    return losses.sum() / mask.sum().clamp(min=1)
