"""The `continual` block: how `tuneforge retrain` turns the served model's feedback into its next version."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from tuneforge.frozen import Frozen

__all__ = ["ContinualConfig", "EwcConfig", "GateConfig", "LwfConfig", "ReplayConfig"]

Strategy = Literal["replay", "ewc", "lwf", "replay+lwf", "replay+ewc", "naive", "from-scratch"]


class ReplayConfig(Frozen):
    size: int = Field(2000, ge=0, description="Earlier training rows mixed into every round's training data.")
    per_class_min: int = Field(10, ge=0, description="Each known class has at least this many replayed rows.")


class EwcConfig(Frozen):
    # `lambda` is the name in configs (a Python keyword here); written back under it, so config.yaml reads again.
    model_config = Frozen.model_config | ConfigDict(validate_by_name=True, serialize_by_alias=True)

    lambda_: float = Field(
        1000.0, alias="lambda", ge=0, description="Weight of the quadratic pull towards the champion's weights."
    )
    samples: int = Field(500, gt=0, description="Earlier training rows the Fisher information is estimated on.")


class LwfConfig(Frozen):
    alpha: float = Field(1.0, ge=0, description="Weight of the distillation loss against the champion's outputs.")
    temperature: float = Field(2.0, gt=0, description="Softmax temperature of the distillation.")


class GateConfig(Frozen):
    min_gain: float = Field(0.0, description="The challenger beats the champion on the round's test rows by this.")
    max_forgetting: float = Field(
        0.01, ge=0, description="Largest drop of the main score on the regression set (earlier test rows)."
    )
    max_class_drop: float = Field(
        0.05, ge=0, description="Largest drop of any known class's F1 on the regression set."
    )
    min_class_support: int = Field(
        20, ge=1, description="Classes with fewer regression rows are shown but not gated: their F1 is noise."
    )
    significance: float = Field(
        0.05,
        gt=0,
        le=1,
        description="A class drop rejects only if McNemar's test on the class's rows finds it this unlikely by "
        "chance (feedback labels are noisy; 1: any drop over max_class_drop rejects).",
    )
    max_conflict_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Largest share of the round's feedback that relabels texts already trained on: more is noisy or "
        "poisoned feedback (the newest label would replace the history's).",
    )
    max_label_noise: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Largest estimated share of wrong labels in the round's test rows, from how often the champion "
        "agrees with those of its labels, against its accuracy on the regression set.",
    )
    min_new_rows: int = Field(50, ge=1, description="Fewer new feedback rows: nothing to do, no round is run.")


class ContinualConfig(Frozen):
    feedback: str = Field(
        "sqlite:///tuneforge-serve.db",
        description="Where new labelled rows come from: the serve store's URL (sqlite:///..., postgresql://...) or "
        "a data file the task reads.",
    )
    min_rating: int | None = Field(
        4,
        ge=1,
        le=5,
        description="Chat: the model's own answers rated at least this are learned too (besides corrected answers); "
        "null: corrected answers only.",
    )
    since: Literal["last-round", "all"] = Field(
        "last-round", description="last-round: only feedback no earlier round used; all: every feedback row."
    )
    strategy: Strategy = Field(
        "replay+lwf",
        description="How the challenger learns without forgetting: replay of earlier rows, EWC, LwF "
        "(distillation from the champion), naive (feedback rows only), or from-scratch on all rows seen.",
    )
    replay: ReplayConfig = Field(default_factory=ReplayConfig, description="The replay reservoir.")
    ewc: EwcConfig = Field(default_factory=EwcConfig, description="Elastic weight consolidation.")
    lwf: LwfConfig = Field(default_factory=LwfConfig, description="Learning without forgetting.")
    new_labels: Literal["allow", "reject"] = Field(
        "allow", description="Labels the champion does not know: allow grows the head, reject lists them."
    )
    near_duplicates: float | None = Field(
        0.8,
        gt=0,
        le=1,
        description="Similarity at which a feedback text counts as one already trained on; null: exact and "
        "normalised duplicates only.",
    )
    test_share: float = Field(0.2, gt=0, lt=1, description="Share of the new rows held out as the round's test.")
    epochs: float | None = Field(None, gt=0, description="Epochs of a round; default train.epochs.")
    gate: GateConfig = Field(default_factory=GateConfig, description="When a challenger replaces the champion.")
