"""Issue 3, bar 2: SST-2 with the packaged MiniLM reaches its accuracy targets (slow: 20-60 min on 2 cores).

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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (DATASETS / "sst2" / "train.tsv").is_file(), reason=f"no SST-2 under {DATASETS}"),
]


@pytest.mark.parametrize(
    ("config", "target"),
    [("sst2-minilm.yaml", 0.895), ("sst2-minilm-best.yaml", 0.910)],
    ids=["1-epoch", "best"],
)
def test_sst2_dev_accuracy(config: str, target: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the configs name the data relative to the repo root
    data = {"train": str(DATASETS / "sst2" / "train.tsv"), "test": str(DATASETS / "sst2" / "dev.tsv")}
    overrides = [f"data.train={data['train']}", f"data.test={data['test']}", f"output_dir={tmp_path / 'run'}"]
    cfg = load_config(REPO / "configs" / config, [*overrides, "tracking=none"])
    metrics = json.loads((train(cfg) / "metrics.json").read_text())
    assert metrics["test"]["size"] == 872
    assert metrics["test"]["accuracy"] >= target
