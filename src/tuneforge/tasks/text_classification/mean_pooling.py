"""Mean pooling for sequence classifiers, built from one more standard encoder layer, computed in O(tokens × hidden).

Sentence-embedding checkpoints (sentence-transformers, such as the packaged MiniLM) were trained to represent a
text by the mean of its token vectors; their [CLS] vector was not. A BERT-family *ForSequenceClassification head
reads position 0 of the last layer, so `append_mean_pooling` adds a layer whose position 0 computes that mean:
zero query weights give every token of the text the same attention, identity value weights make that attention
the mean hidden state, and an output projection of 1024·I leaves [CLS]'s own residual negligible inside the
LayerNorm; a zero feed-forward passes the result on. Position 0 then holds LayerNorm(mean of the text's tokens)
at a spread of 0.25, which the head reads, and the saved model is still a plain BERT (one layer more) that
transformers, `tuneforge export --merge` and serving load unchanged.

Run as a layer, the pooling costs keys and values of every token: a sixth of a MiniLM layer even when only
position 0 is computed. `fast_mean_pooling` computes the same output from the masked mean itself (the query is
zero, so attention is uniform over the text; values are linear, so the value of the mean is the mean of the
values): O(tokens × hidden) plus one vector per text through the layer's own value, output and feed-forward
modules. The query (and the key, which a zero query ignores) gets no gradient, so the pooling stays a mean while
value, output, feed-forward and norms train. A PEFT adapter carries the pooling layer and the reset pooler whole
(see methods/peft_methods.py): its base is the stock checkpoint with `num_hidden_layers` one more.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any, Literal

import torch
from transformers.utils import cached_file

__all__ = ["MARK", "Pooling", "append_mean_pooling", "checkpoint_pooling", "fast_mean_pooling", "pooling_modules"]

Pooling = Literal["mean", "cls"]

_SCALE = 1024.0  # a power of two, exact in bf16: LayerNorm(1024·mean + cls) = LayerNorm(mean + cls/1024)
# The pooled vector's spread: that of MiniLM's mean token vector (0.28 on Banking77), small enough that the BERT
# pooler's tanh stays near linear (at spread 1, a third of the values fall where tanh flattens).
_POOLED_STD = 0.25
MARK = "tuneforge_mean_pooling"  # config attribute of models that already end in the pooling layer


def checkpoint_pooling(model_path: str) -> Pooling:
    """How the checkpoint pools a text: "mean" for sentence-transformers models that average token vectors.

    Reads modules.json and the Pooling module's config (local dir, or the hub cache; nothing is downloaded when
    offline).
    """
    modules = _file(model_path, "modules.json")
    if modules is None:
        return "cls"
    for module in json.loads(Path(modules).read_text(encoding="utf-8")):
        if module.get("type", "").endswith("models.Pooling"):
            settings = _file(model_path, f"{module['path']}/config.json")
            if settings and json.loads(Path(settings).read_text(encoding="utf-8")).get("pooling_mode_mean_tokens"):
                return "mean"
    return "cls"


def _file(model_path: str, name: str) -> str | None:
    if Path(model_path).is_dir():
        path = Path(model_path) / name
        return str(path) if path.is_file() else None
    return cached_file(
        model_path,
        name,
        _raise_exceptions_for_missing_entries=False,
        _raise_exceptions_for_connection_errors=False,
    )


def append_mean_pooling(model: torch.nn.Module) -> bool:
    """Make a BERT-family classifier end in the mean-pooling layer (unless a saved one already does); False if
    the model has other layers.

    A BERT pooler (dense + tanh after position 0) is reset to the identity so that the head starts from the mean.
    """
    config = model.config
    if getattr(config, MARK, False):
        return True
    layers = getattr(getattr(model.base_model, "encoder", None), "layer", None)
    if not layers or not _bert_layout(layers[-1]):
        return False
    reference = next(layers[-1].parameters())
    layer = type(layers[-1])(config, layer_idx=len(layers)).to(reference.device, reference.dtype)
    layer.train(layers[-1].training)
    attention = layer.attention
    eye = torch.eye(config.hidden_size)
    with torch.no_grad():
        for linear, weight in (
            (attention.self.query, 0 * eye),  # equal scores: every token of the text gets the same attention
            (attention.self.key, eye),  # any keys do; identity keeps the layer easy to read
            (attention.self.value, eye),
            (attention.output.dense, _SCALE * eye),
            (layer.intermediate.dense, torch.zeros_like(layer.intermediate.dense.weight)),
            (layer.output.dense, torch.zeros_like(layer.output.dense.weight)),
        ):
            linear.weight.copy_(weight)
            linear.bias.zero_()
        for norm, scale in ((attention.output.LayerNorm, 1.0), (layer.output.LayerNorm, _POOLED_STD)):
            norm.weight.fill_(scale)
            norm.bias.zero_()
        pooler = getattr(model.base_model, "pooler", None)
        if pooler is not None and hasattr(pooler, "dense"):
            pooler.dense.weight.copy_(eye)
            pooler.dense.bias.zero_()
    layers.append(layer)
    config.num_hidden_layers = len(layers)
    setattr(config, MARK, True)
    return True


def _bert_layout(layer: torch.nn.Module) -> bool:
    names = {name for name, _ in layer.named_modules()}
    wanted = {
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "attention.output.LayerNorm",
        "intermediate.dense",
        "output.dense",
        "output.LayerNorm",
    }
    return wanted <= names


def pooling_modules(model: torch.nn.Module) -> list[str]:
    """Qualified names of the modules with weights that mean pooling adds (its layer's) or resets (the pooler's);
    [] without it. Leaves, so that PEFT can save each whole (`modules_to_save`) and fold them back (`--merge`).

    >>> pooling_modules(build_classifier("minilm", ["a", "b"], "mean"))[-2:]  # doctest: +SKIP
    ['bert.encoder.layer.6.output.LayerNorm', 'bert.pooler.dense']
    """
    if not getattr(model.config, MARK, False):
        return []
    body = model.base_model
    pooling = [body.encoder.layer[-1]] + ([body.pooler] if getattr(body, "pooler", None) is not None else [])
    added = {id(leaf) for module in pooling for leaf in module.modules() if not list(leaf.children())}
    return [
        name for name, leaf in model.named_modules() if id(leaf) in added and next(leaf.parameters(), None) is not None
    ]


def fast_mean_pooling(model: torch.nn.Module) -> bool:
    """Compute the appended pooling layer from the masked mean of its input; True if the model has that layer.

    Exact (to float rounding) while the layer's query is frozen at zero and no prefix keys are passed; otherwise
    the layer's previous forward runs. Attention dropout is kept: in training each head averages its own
    dropped-out weights, as the layer's attention would.
    """
    if not getattr(model.config, MARK, False):
        return False
    layer = model.base_model.encoder.layer[-1]
    attention = layer.attention.self
    attention.query.requires_grad_(False)  # never trained: a zero query is what makes the pooling a mean
    attention.key.requires_grad_(False)  # a zero query ignores the keys
    layer.forward = partial(_pooling_forward, layer, layer.forward)
    return True


def _pooling_forward(
    layer: torch.nn.Module,
    fallback: Any,
    hidden_states: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    *args: Any,
    **kwargs: Any,
) -> torch.Tensor:
    attention = layer.attention.self
    weights = _uniform_weights(attention_mask, hidden_states)
    if weights is None or kwargs.get("past_key_values") is not None or not _pools_by_mean(attention):
        return fallback(hidden_states, attention_mask, *args, **kwargs)
    batch, heads, size = hidden_states.shape[0], attention.num_attention_heads, attention.attention_head_size
    probs = weights[:, None, :].to(hidden_states.dtype)  # (batch, 1, tokens): the same for every head
    if attention.training and attention.dropout.p > 0:
        probs = attention.dropout(probs.expand(batch, heads, -1))  # each head drops its own tokens
    kept = probs.sum(-1, keepdim=True).clamp_min(torch.finfo(probs.dtype).tiny)  # 1 unless dropped out
    # sum_j p_j·value(h_j) = kept·value(sum_j p_j·h_j / kept): value is affine, the weights sum to `kept`
    context = kept * attention.value(probs @ hidden_states / kept)  # (batch, 1 or heads, hidden)
    if heads > 1 and context.shape[1] == heads:  # head h keeps its own slice h·size..(h+1)·size
        context = torch.diagonal(context.view(batch, heads, heads, size), dim1=1, dim2=2).transpose(1, 2)
    attention_output = layer.attention.output(context.reshape(batch, 1, -1), hidden_states[:, :1])
    return layer.feed_forward_chunk(attention_output)


def _pools_by_mean(attention: torch.nn.Module) -> bool:
    """A query of zeros that nothing trains (whatever wraps it): every token gets the same attention."""
    weights = list(attention.query.parameters())
    return not any(w.requires_grad for w in weights) and not any(bool(w.any()) for w in weights)


def _uniform_weights(mask: torch.Tensor | None, hidden_states: torch.Tensor) -> torch.Tensor | None:
    """(batch, tokens) attention weights of a zero query under `mask`, as the layer's softmax makes them; None for
    a mask of a form not known here."""
    batch, tokens = hidden_states.shape[:2]
    if mask is None:  # sdpa drops the mask when no text is padded
        return hidden_states.new_full((batch, tokens), 1.0 / tokens, dtype=torch.float)
    if mask.dim() != 4 or mask.shape[-1] != tokens:
        return None
    row = mask[:, 0, 0, :]  # the query of position 0, head 0: every head and query has the same padding mask
    if row.dtype == torch.bool:
        row = torch.zeros(row.shape, device=row.device).masked_fill(~row, float("-inf"))
    return torch.softmax(row.float(), dim=-1)
