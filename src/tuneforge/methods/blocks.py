"""The config blocks of the methods that adapt a model's weights, one per method in METHODS.

Kept free of torch: tuneforge.config reads them, and `import tuneforge.config` stays light.

>>> LoraMethod(name="lora", r=4).dropout
0.1
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tuneforge.frozen import Frozen

__all__ = [
    "AdaLoraMethod",
    "AdapterMethod",
    "BitFitMethod",
    "FreezeMethod",
    "FullMethod",
    "IA3Method",
    "LoraMethod",
    "PTuningMethod",
    "PrefixMethod",
    "PromptMethod",
]


class FullMethod(Frozen):
    name: Literal["full"] = Field("full", description="Train every weight.")


class FreezeMethod(Frozen):
    name: Literal["freeze"] = Field(description="Train the head and the top layers only.")
    freeze_layers: int | None = Field(
        None, ge=0, description="Embeddings plus this many lower layers are frozen; null freezes all but the head."
    )


class BitFitMethod(Frozen):
    name: Literal["bitfit"] = Field(description="Train the bias terms and the head only (Ben Zaken et al. 2022).")


class LoraMethod(Frozen):
    name: Literal["lora"] = Field(description="Low-rank updates of the chosen linear layers (Hu et al. 2021).")
    # le: a rank past any layer's width adds nothing and allocates without bound (r: 1e9 asked for 128 GB).
    r: int = Field(
        8, ge=1, le=4096, description="Rank of each update; 8 trains ~1.5% of MiniLM with all linear layers."
    )
    alpha: float = Field(16, gt=0, description="Scale of the update is alpha / r; 2 x r is the usual choice.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout on the input of the low-rank path.")
    target_modules: list[str] | None = Field(
        None, description="Module name suffixes adapted; default every linear layer of the encoder for the model type."
    )
    layers: list[int] | None = Field(
        None, description="Only these transformer layers (0-based) get updates; null: all. Top layers only: faster."
    )


class AdaLoraMethod(Frozen):
    name: Literal["adalora"] = Field(description="LoRA with ranks reallocated while training (Zhang et al. 2023).")
    init_r: int = Field(12, ge=1, description="Starting rank of every update.")
    target_r: int = Field(8, ge=1, description="Average rank left when the budget schedule ends.")
    alpha: float = Field(16, gt=0, description="Scale of the update, as LoRA's alpha.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout on the input of the low-rank path.")
    target_modules: list[str] | None = Field(None, description="As lora.target_modules.")
    warmup_share: float = Field(0.1, ge=0, lt=1, description="Share of steps before ranks start to be pruned.")
    final_share: float = Field(0.3, ge=0, lt=1, description="Share of steps at the end with ranks fixed.")
    prune_every: int = Field(10, ge=1, description="Steps between two rank reallocations.")

    @model_validator(mode="after")
    def _schedule_fits(self) -> AdaLoraMethod:
        if self.warmup_share + self.final_share >= 1:
            raise ValueError("warmup_share + final_share must be < 1: no steps would be left to prune ranks")
        if self.target_r > self.init_r:
            raise ValueError(f"target_r ({self.target_r}) must be <= init_r ({self.init_r})")
        return self


class IA3Method(Frozen):
    name: Literal["ia3"] = Field(description="Learned rescaling of keys, values and feed-forward (Liu et al. 2022).")
    target_modules: list[str] | None = Field(None, description="Modules rescaled; default PEFT's for the model type.")
    feedforward_modules: list[str] | None = Field(
        None, description="Those of target_modules whose input (not output) is rescaled; default PEFT's."
    )


class PrefixMethod(Frozen):
    name: Literal["prefix"] = Field(description="Learned keys and values in front of every layer (Li & Liang 2021).")
    num_virtual_tokens: int = Field(20, ge=1, description="Virtual tokens prepended to each layer's keys and values.")
    projection: bool = Field(False, description="Produce the prefix through a 2-layer MLP, as in the paper.")
    projection_size: int = Field(256, ge=1, description="Hidden size of that MLP.")


class PromptMethod(Frozen):
    name: Literal["prompt"] = Field(description="Learned input embeddings before the text (Lester et al. 2021).")
    num_virtual_tokens: int = Field(20, ge=1, description="Virtual tokens prepended to the input.")
    init: Literal["random", "vocab"] = Field(
        "vocab", description="Start the virtual tokens as random vectors or as embeddings of random vocabulary words."
    )


class PTuningMethod(Frozen):
    name: Literal["ptuning"] = Field(description="Virtual input tokens produced by a small encoder (Liu et al. 2021).")
    num_virtual_tokens: int = Field(20, ge=1, description="Virtual tokens prepended to the input.")
    encoder: Literal["mlp", "lstm"] = Field("mlp", description="Network that produces the virtual tokens.")
    encoder_hidden_size: int = Field(128, ge=1, description="Hidden size of that network.")


class AdapterMethod(Frozen):
    name: Literal["adapter"] = Field(description="Bottleneck layers inside every block (Houlsby / Pfeiffer).")
    style: Literal["houlsby", "pfeiffer"] = Field(
        "pfeiffer", description="houlsby: after attention and feed-forward; pfeiffer: after feed-forward only."
    )
    reduction_factor: int = Field(16, ge=1, description="Bottleneck size is hidden size / this (384 / 16 = 24).")
    train_layer_norms: bool = Field(True, description="Also train the layer norms, as both papers do.")
