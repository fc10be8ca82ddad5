"""Task `recommendation`: popularity, ALS matrix factorisation and a two-tower language-model recommender,
trained and compared on one leave-last-out split, with cold-start items scored from their text alone.

>>> from tuneforge.recommend import load
>>> load("runs/recsys-demo").predict([{"text": "星际冒险和机器人"}])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from tuneforge.recommend.config import RecommendConfig

__all__ = ["RecommendConfig", "Recommender", "check_data", "load", "train"]


def __getattr__(name: str) -> Any:
    # Imported on first use: tuneforge.config imports this package for RecommendConfig and must stay light.
    if name in ("train", "check_data"):
        from tuneforge.recommend import pipeline

        return getattr(pipeline, name)
    if name in ("Recommender", "load"):
        from tuneforge.recommend import saved

        return getattr(saved, name)
    raise AttributeError(name)
