"""Issue 8, bar 2: on MovieLens latest-small the LM recommender beats popularity and ALS on test NDCG@10, and
ranks held-out (cold-start) items at least 3x better than random (slow: ~20 min on 2 shared cores).

make test-slow            # datasets from ../shared/datasets, or TUNEFORGE_DATASETS=/path/to/datasets
"""

import json
import os
from pathlib import Path

import pytest

from tuneforge.config import load_config
from tuneforge.tasks import train

REPO = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("TUNEFORGE_DATASETS", REPO.parent / "shared" / "datasets"))
MOVIELENS = DATASETS / "movielens_latest_small"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (MOVIELENS / "ratings.csv").is_file(), reason=f"no MovieLens under {DATASETS}"),
]


def test_lm_recommender_beats_popularity_and_als(tmp_path: Path) -> None:
    overrides = [
        f"data.train={MOVIELENS / 'ratings.csv'}",
        f"recommend.items={MOVIELENS / 'movies.csv'}",
        f"output_dir={tmp_path / 'run'}",
        "tracking=none",
    ]
    metrics = json.loads(
        (train(load_config(REPO / "configs" / "movielens-recsys.yaml", overrides)) / "metrics.json").read_text()
    )
    test, cold = metrics["test"], metrics["cold_start"]
    assert test["lm"]["cases"] == 610
    assert test["lm"]["ndcg@10"] > max(test["popularity"]["ndcg@10"], test["mf"]["ndcg@10"])
    assert cold["lm"]["ndcg@10"] >= 3 * cold["random"]["ndcg@10"]
