"""The `tabular:` block of a config: schema overrides, validation policies, cross-validation, costs, models."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tuneforge.frozen import Frozen

__all__ = ["FAMILIES", "CostMatrix", "LmSettings", "MlpSettings", "TabularConfig"]

Family = Literal["hgb", "logreg", "mlp", "lm"]
FAMILIES: tuple[Family, ...] = ("hgb", "logreg", "mlp", "lm")


class CostMatrix(Frozen):
    """Cost of each wrong decision; the positive class is the risk event (German credit: a bad customer)."""

    false_negative: float = Field(5.0, ge=0, description="Positive row decided negative (a bad customer accepted).")
    false_positive: float = Field(1.0, ge=0, description="Negative row decided positive (a good customer rejected).")

    @model_validator(mode="after")
    def _some_cost(self) -> CostMatrix:
        if self.false_negative + self.false_positive == 0:
            raise ValueError("false_negative and false_positive cannot both be 0")
        return self


class MlpSettings(Frozen):
    hidden: list[int] = Field([64, 32], description="Units of each hidden layer (ReLU, dropout after each).")
    dropout: float = Field(0.2, ge=0, lt=1, description="Dropout after each hidden layer.")
    epochs: float = Field(40, gt=0, description="Passes over the training rows; 1,000 rows make 16 steps each.")
    batch_size: int = Field(64, ge=1, description="Rows per optimiser step.")
    lr: float = Field(1e-3, gt=0, description="Peak learning rate of AdamW.")
    weight_decay: float = Field(1e-2, ge=0, description="AdamW weight decay on the weight matrices.")


class LmSettings(Frozen):
    epochs: float = Field(2, gt=0, description="Passes over the rows as text; CPU-bound, so kept small.")
    batch_size: int = Field(16, ge=1, description="Rows per optimiser step.")
    lr: float = Field(5e-5, gt=0, description="Peak learning rate of AdamW (linear decay, 10% warm-up).")
    max_length: int = Field(128, ge=16, description="Tokens per serialised row; longer rows are truncated.")
    freeze_layers: int | None = Field(
        None, ge=0, description="Freeze the embeddings and this many lower layers (method freeze); null trains all."
    )


class TabularConfig(Frozen):
    positive_label: str | None = Field(
        None, description="Class whose probability is scored (the risk event); default the rarer class of train."
    )
    columns: dict[str, Literal["numeric", "categorical"]] = Field(
        {}, description="Column kinds that override the inferred schema, e.g. {zip_code: categorical}."
    )
    exclude: list[str] = Field([], description="Columns that are not features (ids, a second copy of the target).")
    missing: Literal["impute", "fail"] = Field(
        "impute", description="Empty cells: impute (median / most frequent category of train), or a row error."
    )
    missing_values: list[str] = Field(
        ["", "NA", "N/A", "NaN", "null", "?"], description="Cell values read as missing."
    )
    unknown_category: Literal["error", "unknown"] = Field(
        "unknown", description="A category never seen in training, at predict time: a row error, or 'unknown'."
    )
    value_names: dict[str, dict[str, str]] = Field(
        {}, description="column -> code -> words, used when rows are written as text for the language model."
    )
    folds: int = Field(5, ge=2, le=20, description="Stratified cross-validation folds.")
    seed: int = Field(42, description="Seed of the folds and of every model.")
    models: list[Family] = Field(list(FAMILIES), min_length=1, description="Model families compared.")
    serve_from: list[Family] | None = Field(
        None, description="Families that may be refitted and served as the best; default every compared family."
    )
    cost: CostMatrix = Field(default_factory=CostMatrix, description="Costs of wrong decisions.")
    importance_repeats: int = Field(5, ge=1, description="Shuffles per column for permutation importance.")
    top_features: int = Field(3, ge=1, description="Contributing features returned per predicted row.")
    mlp: MlpSettings = Field(default_factory=MlpSettings, description="The PyTorch MLP.")
    lm: LmSettings = Field(default_factory=LmSettings, description="The language model fine-tuned on rows as text.")

    @model_validator(mode="after")
    def _served_family_is_compared(self) -> TabularConfig:
        if self.serve_from is not None and not set(self.serve_from) <= set(self.models):
            raise ValueError(f"serve_from {self.serve_from} must be a subset of models {self.models}")
        if self.serve_from == []:
            raise ValueError("serve_from must name at least one family, or be null for all")
        return self
