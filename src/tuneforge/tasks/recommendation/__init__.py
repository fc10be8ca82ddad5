"""Task `recommendation`: popularity, ALS matrix factorisation and a two-tower language-model recommender,
trained and compared on one leave-last-out split, with cold-start items scored from their text alone.

>>> tuneforge.load("runs/recsys-demo").predict([{"text": "星际冒险和机器人"}])  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneforge.tasks.base import TaskSpec

if TYPE_CHECKING:
    from tuneforge.config import Config
    from tuneforge.tasks.recommendation.saved import Recommender

__all__ = ["RECOMMENDATION"]


def _check_data(cfg: Config) -> Any:
    from tuneforge.tasks.recommendation.pipeline import check_data

    return check_data(cfg)


def _train(cfg: Config, resume: bool) -> Path:
    from tuneforge.tasks.recommendation.pipeline import train

    return train(cfg, resume=resume)


def _load(run_dir: Path) -> Recommender:
    from tuneforge.tasks.recommendation.saved import Recommender

    return Recommender(run_dir)


def _rules(cfg: Config) -> list[str]:
    if cfg.recommend is None:
        return ["task: recommendation needs a 'recommend:' block naming at least 'items' (the item file)"]
    return []


RECOMMENDATION = TaskSpec(
    name="recommendation",
    inputs="records",
    main_metric="ndcg@k",  # k: recommend.k; the pipeline watches ndcg@<k> (pipeline._loop_config)
    methods=("full",),  # popularity, ALS and the two-tower model are all fitted; the tower trains in full
    options=("recommend",),
    rules=_rules,
    check_data=_check_data,
    train=_train,
    load=_load,
)
