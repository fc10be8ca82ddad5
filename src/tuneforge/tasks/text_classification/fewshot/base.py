"""What a zero-/few-shot method is: its own fit (no fine-tuned classification head), save and load.

Each method returns a model with the interface of a sequence classifier, `model(input_ids=..., attention_mask=...)
.logits` over the run's labels, so evaluation, reports, `predict` and `TextClassifier` treat it like any other run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator

from tuneforge.config import Config
from tuneforge.data import PreparedData
from tuneforge.errors import ConfigError
from tuneforge.tasks.text_classification.task import TextClassification
from tuneforge.training.checkpoint import TrainerState
from tuneforge.training.loop import FitResult

__all__ = ["FewShotMethod", "Fitted", "check_label_keys", "label_name", "no_training"]


@dataclass(frozen=True)
class Fitted:
    """A fitted zero-/few-shot model with the task that encodes its inputs, and what fitting it took."""

    task: TextClassification
    model: torch.nn.Module
    result: FitResult
    seconds: float


@dataclass(frozen=True)
class FewShotMethod:
    """One entry of FEW_SHOT.

    `fit(cfg, data, run_dir, accelerator, resume)` builds (and for SetFit trains) the model; `save(fitted, run_dir,
    cfg)` writes what the run needs into `run_dir` and returns the manifest entries (as `rundir.saved.save_model`);
    `load(run_dir, manifest)` returns (task, model) ready to predict (why `export --merge` refuses it is
    the method's entry in tuneforge.methods.METHODS).
    """

    fit: Callable[[Config, PreparedData, Path, Accelerator, bool], Fitted]
    save: Callable[[Fitted, Path, Config], dict[str, Any]]
    load: Callable[[Path, dict[str, Any]], tuple[TextClassification, torch.nn.Module]]


def no_training(started: float) -> tuple[FitResult, float]:
    """The fit result of a method that trains nothing: zero steps, the seconds since `started`."""
    return FitResult(TrainerState(), stopped_early=False), time.perf_counter() - started


def label_name(label: str) -> str:
    """A label as words: `card_arrival` -> `card arrival` (underscores and hyphens as spaces)."""
    return " ".join(label.replace("_", " ").replace("-", " ").split())


def check_label_keys(method: str, keys: list[str], labels: list[str]) -> None:
    """Descriptions must name labels of the data: a key that matches none is a typo, not a new label."""
    if unknown := [key for key in keys if key not in labels]:
        raise ConfigError(
            f"'method.descriptions' of {method} names label(s) not in the data: {', '.join(unknown)}; "
            f"labels are: {', '.join(labels)}"
        )
