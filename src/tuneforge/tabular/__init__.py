"""Tabular risk scoring (`task: tabular-classification`): several model families compared by stratified
cross-validation in one report, the best refitted and served with a cost-minimising threshold.

Imports are deferred: `tuneforge.config` imports this package's config module, and `tuneforge --help` stays fast.

>>> run_dir = train(load_config("configs/credit-demo.yaml"))  # doctest: +SKIP
>>> load(run_dir).predict([{"age": 35, "purpose": "car"}])  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuneforge.config import Config
    from tuneforge.tabular.data import TrainingData
    from tuneforge.tabular.predictor import TabularPredictor

__all__ = ["check_data", "load", "train"]


def check_data(cfg: Config) -> TrainingData:
    """Infer the schema and validate every row of data.train, without training; `.report` is the DataReport."""
    from tuneforge.tabular.data import load_training

    return load_training(cfg)


def train(cfg: Config, *, resume: bool = False) -> Path:
    from tuneforge.tabular.pipeline import train as run_pipeline

    return run_pipeline(cfg, resume=resume)


def load(run_dir: str | Path) -> TabularPredictor:
    from tuneforge.tabular.predictor import load as load_predictor

    return load_predictor(run_dir)
