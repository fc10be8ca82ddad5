"""Bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2021), which PEFT does not provide.

A small residual bottleneck follows the output projection of the attention block (Houlsby only) and of the
feed-forward block (both), before the residual connection and layer norm. The up-projection starts at zero, so
training starts from exactly the pretrained function. Only the adapters, the layer norms and the head train.
"""

from __future__ import annotations

import re

import torch

from tuneforge.errors import ConfigError
from tuneforge.methods.base import train_only
from tuneforge.methods.blocks import AdapterMethod

__all__ = ["Bottleneck", "apply_adapter"]

_BERT_SITES = (r"\.layer\.\d+\.attention\.output\.dense$", r"\.layer\.\d+\.output\.dense$")
_LLAMA_SITES = (r"\.layers\.\d+\.self_attn\.o_proj$", r"\.layers\.\d+\.mlp\.down_proj$")
# model type -> (output projection of attention, output projection of feed-forward), as module-name patterns
_SITES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(["bert", "roberta", "xlm-roberta", "camembert", "electra"], _BERT_SITES),
    "distilbert": (r"\.layer\.\d+\.attention\.out_lin$", r"\.layer\.\d+\.ffn\.lin2$"),
    **dict.fromkeys(["llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2"], _LLAMA_SITES),
}


class Bottleneck(torch.nn.Module):
    """`wrapped(x)` followed by `h + up(relu(down(h)))`; with `up` at zero it is `wrapped` exactly."""

    def __init__(self, wrapped: torch.nn.Linear, size: int) -> None:
        super().__init__()
        width = wrapped.out_features
        like = {"device": wrapped.weight.device, "dtype": wrapped.weight.dtype}
        self.wrapped = wrapped
        self.adapter_down = torch.nn.Linear(width, size, **like)
        self.adapter_up = torch.nn.Linear(size, width, **like)
        torch.nn.init.zeros_(self.adapter_up.weight)
        torch.nn.init.zeros_(self.adapter_up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.wrapped(x)
        return h + self.adapter_up(torch.relu(self.adapter_down(h)))


def apply_adapter(model: torch.nn.Module, cfg: AdapterMethod) -> torch.nn.Module:
    model_type = model.config.model_type
    if model_type not in _SITES:
        raise ConfigError(
            f"method 'adapter' does not know where adapters go in a '{model_type}' model; "
            f"supported model types: {', '.join(sorted(_SITES))}; use lora for others"
        )
    attention, feed_forward = _SITES[model_type]
    patterns = [feed_forward] if cfg.style == "pfeiffer" else [attention, feed_forward]
    sites = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and any(re.search(p, f".{name}") for p in patterns)
    ]
    for name, linear in sites:
        parent, _, attr = name.rpartition(".")
        size = max(1, linear.out_features // cfg.reduction_factor)
        setattr(model.get_submodule(parent), attr, Bottleneck(linear, size))
    return train_only(model, lambda n: ".adapter_" in n or (cfg.train_layer_norms and "norm" in n.lower()))
