"""Mean pooling for sequence classifiers, built from one more standard encoder layer.

Sentence-embedding checkpoints (sentence-transformers, such as the packaged MiniLM) were trained to represent a
text by the mean of its token vectors; their [CLS] vector was not. A BERT-family *ForSequenceClassification head
reads position 0 of the last layer, so `append_mean_pooling` adds a layer whose position 0 computes that mean:
zero query weights give every token of the text the same attention, identity value weights make that attention
the mean hidden state, and an output projection of 1024·I leaves [CLS]'s own residual negligible inside the
LayerNorm; a zero feed-forward passes the result on. Position 0 then holds LayerNorm(mean of the text's tokens)
at a spread of 0.25, which the head reads, and the saved model is still a plain BERT (one layer more) that
transformers, `tuneforge export --merge` and serving load unchanged. The layer trains with the rest, so it
can move towards a weighted pooling.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import torch
from transformers.utils import cached_file

__all__ = ["Pooling", "append_mean_pooling", "checkpoint_pooling"]

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
