"""The task table: every task is one `TaskSpec` row of TASKS (see tasks/base.py), its code in its own folder.

`train`, `check_data` and `load` are the only doors into a task for the rest of tuneforge and for users:

>>> run_dir = tuneforge.train(load_config("configs/demo.yaml"))  # doctest: +SKIP
>>> tuneforge.load(run_dir).predict(["Where is my parcel?"])  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneforge.errors import RunError
from tuneforge.tasks.base import Estimator, FeedbackFormat, TaskSpec
from tuneforge.tasks.causal_lm_sft import CAUSAL_LM_SFT
from tuneforge.tasks.recommendation import RECOMMENDATION
from tuneforge.tasks.tabular import TABULAR_CLASSIFICATION
from tuneforge.tasks.text_classification import TEXT_CLASSIFICATION
from tuneforge.tasks.token_classification import TOKEN_CLASSIFICATION

if TYPE_CHECKING:
    from tuneforge.config import Config

__all__ = [
    "TASKS",
    "Estimator",
    "FeedbackFormat",
    "TaskSpec",
    "check_data",
    "load",
    "load_config",
    "task_of",
    "train",
    "with_main_metric",
]

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (TEXT_CLASSIFICATION, TOKEN_CLASSIFICATION, CAUSAL_LM_SFT, TABULAR_CLASSIFICATION, RECOMMENDATION)
}


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read and validate a config, the tables' rules included (tasks/rules.py): every problem in one ConfigError."""
    from tuneforge.config import load_config as read_config
    from tuneforge.tasks.rules import config_problems

    return with_main_metric(read_config(path, overrides, rules=config_problems))


def with_main_metric(cfg: Config) -> Config:
    """`cfg` with early stopping watching the task's main metric where the config names none."""
    stopping = cfg.train.early_stopping
    if stopping is None or stopping.metric is not None:
        return cfg
    watched = stopping.model_copy(update={"metric": TASKS[cfg.task].main_metric})
    return cfg.model_copy(update={"train": cfg.train.model_copy(update={"early_stopping": watched})})


def train(cfg: Config, *, resume: bool = False) -> Path:
    """Run the whole pipeline of `cfg.task` and return the finished run directory."""
    from tuneforge.rundir import check_output_dir
    from tuneforge.tasks.rules import check_config

    check_config(cfg)
    check_output_dir(cfg.output_dir)  # before any data is read: a folder that is no run is never replaced
    return TASKS[cfg.task].train(with_main_metric(cfg), resume)


def check_data(cfg: Config) -> Any:
    """The data report of `cfg` without training (`.render()` shows it); DataError when rows are bad."""
    from tuneforge.tasks.rules import check_config

    return TASKS[cfg.task].check_data(with_main_metric(check_config(cfg)))


def task_of(path: Path) -> tuple[TaskSpec, str]:
    """The task of a run directory (its manifest) or of a plain model dir that a task serves as it is, and the
    name it goes by there (the task's, or the plain dir's kind: "causal-lm")."""
    from tuneforge.rundir import read_manifest

    if (path / "manifest.json").is_file():
        name = read_manifest(path).get("task", "text-classification")
        if name not in TASKS:
            raise RunError(f"{path}: task '{name}' is not known to this tuneforge; tasks: {', '.join(TASKS)}")
        return TASKS[name], name
    for spec in TASKS.values():
        if spec.plain_dir and (kind := spec.plain_dir(path)):
            return spec, kind
    raise RunError(f"{path}: neither a tuneforge run dir (manifest.json) nor a Hugging Face causal-LM dir")


def load(run_dir: str | Path) -> Estimator:
    """The estimator of a finished run: `predict(inputs)`, `show`, `predict_file`, `evaluate_file`."""
    from tuneforge.models import quiet_loading

    path = Path(run_dir)
    with quiet_loading():
        spec = task_of(path)[0]
        try:
            return spec.load(path)
        except json.JSONDecodeError as exc:  # a tokenizer.json, vocab or config cut short or overwritten
            raise RunError(
                f"{path}: a JSON file of the run is damaged ({exc.msg} at line {exc.lineno}); copy the run folder "
                "again or retrain it"
            ) from None
