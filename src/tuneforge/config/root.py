"""The root of the config tree: the task, the model, and one block per stage."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from tuneforge.config.continual import ContinualConfig
from tuneforge.config.data import DataConfig
from tuneforge.config.method import MethodConfig
from tuneforge.config.recommend import RecommendConfig
from tuneforge.config.sft import SftConfig
from tuneforge.config.tabular import TabularConfig
from tuneforge.config.tracking import TrackingConfig
from tuneforge.config.train import TrainConfig
from tuneforge.frozen import Frozen
from tuneforge.methods.blocks import FullMethod

__all__ = ["Config"]


# One per row of tuneforge.tasks.TASKS (a test keeps them equal): config sits below the task table, so it cannot
# read the names from there.
TASK_NAMES: tuple[str, ...] = (
    "text-classification",
    "token-classification",
    "causal-lm-sft",
    "tabular-classification",
    "recommendation",
)


class Config(Frozen):
    task: str = Field(
        "text-classification",
        description="What the model learns: a label per text, entity spans, chat answers (causal LM), a risk score "
        "per table row, or items to recommend.",
    )
    model: str = Field("minilm", description="'minilm' (packaged offline MiniLM), a local HF dir or a hub id.")
    pooling: Literal["auto", "mean", "cls"] = Field(
        "auto",
        description="text-classification: what the head reads. 'mean' averages the text's token vectors (how "
        "sentence-embedding checkpoints such as the packaged MiniLM were trained), 'cls' the first token's; 'auto' "
        "takes mean when the checkpoint's sentence-transformers config pools by mean, cls otherwise.",
    )
    head_init: Literal["random", "probe"] = Field(
        "random",
        description="text-classification: how the new head starts. probe: a logistic regression on the "
        "untouched model's features (C picked on validation), then everything fine-tunes from there (LP-FT).",
    )
    extend_vocab: bool = Field(
        False,
        description="Add the training texts' pieces that the tokenizer maps to [UNK] (e.g. Chinese characters "
        "with an English model) as new tokens; needs method full, which trains their embeddings.",
    )
    data: DataConfig = Field(description="The data files, their columns, cleaning and splitting.")
    train: TrainConfig = Field(default_factory=TrainConfig, description="The training loop.")
    method: MethodConfig = Field(default_factory=FullMethod, description="Which parameters are trained and how.")
    output_dir: Path = Field(Path("runs/run"), description="Run directory: model, metrics, reports, checkpoints.")
    tracking: TrackingConfig = Field(
        default_factory=TrackingConfig, description="Tracking: 'mlflow', 'none' or a block."
    )
    tabular: TabularConfig | None = Field(None, description="tabular-classification: schema, policies, CV, costs.")
    recommend: RecommendConfig | None = Field(None, description="task: recommendation: item file, columns, models.")
    sft: SftConfig = Field(default_factory=SftConfig, description="causal-lm-sft: chat data, formatting, generation.")
    continual: ContinualConfig | None = Field(
        None, description="tuneforge retrain: feedback, strategy, replay and gate of each round after launch."
    )

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        if value not in TASK_NAMES:
            hint = difflib.get_close_matches(value, TASK_NAMES, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ValueError(f"unknown task {value!r}{suggestion}; expected one of: {', '.join(TASK_NAMES)}")
        return value

    @field_validator("tracking", mode="before")
    @classmethod
    def _tracking_shorthand(cls, value: Any) -> Any:
        return {"backend": value} if isinstance(value, str) else value

    @field_validator("method", mode="before")
    @classmethod
    def _method_shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @property
    def max_tokens(self) -> int:
        """Token count above which a text is rejected as far over max_length."""
        return self.data.max_tokens or 8 * self.train.max_length
