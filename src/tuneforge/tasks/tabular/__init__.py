"""Task `tabular-classification` (risk scoring): several model families compared by stratified
cross-validation in one report, the best refitted and served with a cost-minimising threshold.

>>> run_dir = TASKS["tabular-classification"].train(load_config("configs/credit-demo.yaml"), False)  # doctest: +SKIP
>>> tuneforge.load(run_dir).predict([{"age": 35, "purpose": "car"}])  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tuneforge.tasks.base import FeedbackFormat, TaskSpec
from tuneforge.tasks.tabular.feedback import write_labelled_records

if TYPE_CHECKING:
    from tuneforge.config import Config
    from tuneforge.data import DataReport
    from tuneforge.tasks.tabular.predictor import TabularPredictor

__all__ = ["TABULAR_CLASSIFICATION"]


def _check_data(cfg: Config) -> DataReport:
    from tuneforge.tasks.tabular.data import load_training

    return load_training(cfg).report


def _train(cfg: Config, resume: bool) -> Path:
    from tuneforge.tasks.tabular.pipeline import train

    return train(cfg, resume=resume)


def _load(run_dir: Path) -> TabularPredictor:
    from tuneforge.tasks.tabular.predictor import load

    return load(run_dir)


def _rules(cfg: Config) -> list[str]:
    # Cross-validation on data.train scores the models: a held-out file is for `tuneforge evaluate`.
    extra = [key for key in ("validation", "test") if getattr(cfg.data, key) is not None]
    return [
        f"data.{key}: tabular-classification scores models by cross-validation on data.train; "
        "drop it and run `tuneforge evaluate RUN --data FILE` for a held-out file"
        for key in extra
    ]


TABULAR_CLASSIFICATION = TaskSpec(
    name="tabular-classification",
    inputs="records",
    main_metric="roc_auc",
    methods=("full",),  # the families fit themselves; the text-column LM fine-tunes in full (tabular.lm)
    options=("tabular",),
    rules=_rules,
    check_data=_check_data,
    train=_train,
    load=_load,
    feedback=FeedbackFormat(suffixes=(".jsonl",), unit="labelled records", write=write_labelled_records),
)
