"""The `train` block: the training loop, early stopping and adversarial training."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from tuneforge.frozen import Frozen

__all__ = ["AdversarialConfig", "EarlyStoppingConfig", "TrainConfig"]

# Far above any batch that fits in memory (a million 128-token texts are 128M tokens per step): a larger
# batch_size, eval_batch_size or grad_accum is a typo such as 1e30, refused before any work.
_MAX_BATCH = 1_000_000


class EarlyStoppingConfig(Frozen):
    metric: str | None = Field(
        None,
        description="Validation metric watched; loss is minimised, others maximised. null: the task's main metric "
        "(macro_f1, entity_f1, loss, roc_auc, ndcg@k).",
    )
    patience: int = Field(2, ge=1, description="Evaluations without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as an improvement.")


class AdversarialConfig(Frozen):
    method: Literal["fgm"] = Field(
        "fgm", description="fgm: one step along the loss gradient at the word embeddings (Miyato et al. 2017)."
    )
    epsilon: float = Field(
        0.2,
        gt=0,
        description="Length of each example's perturbation of its word vectors (L2 over the example; MiniLM's "
        "word vectors are ~1.1 long). SST-2 with MiniLM: 0.05 and 0.2 helped, 1.0 hurt.",
    )


class TrainConfig(Frozen):
    epochs: float = Field(3, gt=0, description="Passes over the training data; fractions allowed.")
    batch_size: int = Field(32, ge=1, description="Examples per optimiser step, before accumulation.")
    eval_batch_size: int | None = Field(
        None, ge=1, description="Examples per evaluation batch; default 2 x batch_size."
    )
    grad_accum: int = Field(1, ge=1, description="Batches accumulated per optimiser step.")
    lr: float = Field(5e-5, gt=0, description="Peak learning rate of AdamW.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay, not applied to biases and norms.")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Share of steps with linear warm-up.")
    scheduler: Literal["linear", "cosine", "constant"] = Field("linear", description="Decay after warm-up.")
    max_grad_norm: float | None = Field(1.0, gt=0, description="Gradient clipping norm; null turns clipping off.")
    max_length: int = Field(
        128, ge=8, le=8192, description="Tokens per text; longer texts are truncated (NER: split into windows)."
    )
    stride: int | None = Field(
        None, ge=0, description="NER: tokens shared by consecutive windows of a long text; default max_length // 4."
    )
    # numpy, which seeds every run, takes 0 to 2**32 - 1 only; outside that range training failed with a traceback.
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Seed for weights, dropout and batch order.")
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = Field(
        "auto",
        description="auto: bf16 on GPUs that support it, fp16 on other GPUs; on CPU bf16 where it has bf16 "
        "instructions (AVX512-BF16 or AMX), else off.",
    )
    packing: bool | None = Field(
        None,
        description="Pack each batch's examples into rows as long as its longest, each attending only to itself: "
        "no padding, so batches can come in random order. null: on for chats and NER (except with virtual-token "
        "methods: prefix, prompt, ptuning); text classification cannot pack.",
    )
    group_by_length: bool | None = Field(
        None,
        description="Batch texts of similar length: far less padding, same sampling. null: on unless packing, "
        "which has no padding to save.",
    )
    eval_every: int | None = Field(None, ge=1, description="Evaluate every N optimiser steps; default once per epoch.")
    save_every: int | None = Field(None, ge=1, description="Checkpoint every N steps; default at each evaluation.")
    early_stopping: EarlyStoppingConfig | None = Field(
        default_factory=EarlyStoppingConfig, description="Stop when validation stops improving; null turns it off."
    )
    class_weights: Literal["none", "balanced"] = Field("none", description="balanced: weight the loss by 1/frequency.")
    label_smoothing: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="text-classification: share of each target spread evenly over all labels (0.1 is usual): "
        "curbs over-confidence when many epochs overfit a small data set.",
    )
    adversarial: AdversarialConfig | None = Field(
        None,
        description="Also train on word embeddings perturbed to raise the loss (FGM): a regulariser for small or "
        "noisy data; each step costs about twice as much. null: off.",
    )
    threads: int | None = Field(None, ge=1, description="CPU threads for torch; default all cores.")

    @field_validator("batch_size", "eval_batch_size", "grad_accum")
    @classmethod
    def _sane_batch(cls, value: int | None) -> int | None:
        if value is not None and value > _MAX_BATCH:
            raise ValueError(f"must be <= {_MAX_BATCH:,}, got {value:,}: no memory holds such a batch (a typo?)")
        return value

    @field_validator("mixed_precision", mode="before")
    @classmethod
    def _yaml_no(cls, value: Any) -> Any:
        return "no" if value is False else value  # YAML 1.1 reads a bare `no` as false
