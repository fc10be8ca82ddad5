"""kill -9 of `tuneforge retrain` at four points of a round, then a rerun: the registry is consistent after the
kill, the champion unchanged, and the rerun's version scores exactly as an uninterrupted round's (same seed)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tuneforge.registry import ModelVersions
from tuneforge.tasks import load_config, train

# Runs one round in a child process that kills itself (SIGKILL: no cleanup, no finally) at the point named.
CHILD = """
import os, signal, sys
from pathlib import Path
import tuneforge.continual.plan as plan, tuneforge.continual.round as round_, tuneforge.training.loop as loop
from tuneforge.config.load import load_config
from tuneforge.registry.versions import ModelVersions

def killing(original, before=False):
    def call(*args, **kwargs):
        if before:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result
    return call

point = sys.argv[3]
if point == "data":  # the round's rows read, its files not yet written
    plan.split_round = killing(plan.split_round)
elif point == "training":  # the first checkpoint of the challenger saved
    loop.save_checkpoint = killing(loop.save_checkpoint)
elif point == "evaluated":  # both models scored and the gate decided, nothing registered
    round_.decide = killing(round_.decide)
elif point == "registered":  # the version added, not recorded nor promoted
    ModelVersions.record_round = killing(ModelVersions.record_round, before=True)
round_.retrain(load_config(sys.argv[1]), champion="intent", registry=Path(sys.argv[2]))
"""


def _rows(start: int, labels: tuple[str, ...], per_label: int) -> list[str]:
    texts = {
        "refund": "refund order {n} please",
        "delivery": "where is parcel {n}",
        "account": "login fails for user {n}",
    }
    return [f"{texts[label].format(n=start + i)},{label}" for i in range(per_label) for label in labels]


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("crash")
    (root / "launch.csv").write_text("text,label\n" + "\n".join(_rows(0, ("refund", "delivery"), 25)) + "\n")
    (root / "feedback.csv").write_text("text,label\n" + "\n".join(_rows(500, ("refund", "account"), 15)) + "\n")
    cfg = {
        "model": str(tiny_model_dir),
        "data": {"train": str(root / "launch.csv"), "split": {"validation": 0.2, "test": 0.2, "seed": 1}},
        "train": {"epochs": 2, "batch_size": 8, "lr": 1e-3, "max_length": 32, "seed": 3, "threads": 1},
        "output_dir": str(root / "runs" / "intent"),
        "tracking": "none",
        "continual": {
            "feedback": str(root / "feedback.csv"),
            "replay": {"size": 20},
            "gate": {
                "min_new_rows": 10,
                "max_forgetting": 1.0,
                "max_class_drop": 1.0,
                "min_gain": -1.0,
                "max_label_noise": 1.0,  # a tiny random model: its agreement with labels says nothing
            },
        },
    }
    (root / "intent.yaml").write_text(yaml.safe_dump(cfg))
    run = train(load_config(root / "intent.yaml"))
    versions = ModelVersions(root / "models", "intent")
    versions.promote(versions.add(run, {"source": str(run)}, copy=True).tag, "first version")
    return root


def _round(root: Path, registry: Path, point: str = "none") -> int:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root / "intent.yaml"), str(registry), point],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr[-3000:]
    return done.returncode


def _copy(root: Path, name: str) -> Path:
    registry = root / name
    shutil.rmtree(registry, ignore_errors=True)
    shutil.copytree(root / "models", registry)
    return registry


@pytest.fixture(scope="module")
def uninterrupted(launched: Path) -> dict:
    registry = _copy(launched, "reference")
    assert _round(launched, registry) == 0
    return ModelVersions(registry, "intent").version("v2").lineage


@pytest.mark.parametrize("point", ["data", "training", "evaluated", "registered"])
def test_a_killed_round_reruns_to_the_same_version(launched: Path, uninterrupted: dict, point: str) -> None:
    registry = _copy(launched, f"killed-{point}")
    assert _round(launched, registry, point) == -signal.SIGKILL
    versions = ModelVersions(registry, "intent")
    assert versions.champion().tag == "v1"  # the server would still answer from v1
    assert [v.tag for v in versions.versions()] == (["v1", "v2"] if point == "registered" else ["v1"])
    assert versions.rounds() == []
    assert _round(launched, registry) == 0
    assert versions.champion().tag == "v2" and [v.tag for v in versions.versions()] == ["v1", "v2"]
    assert [r["round"] for r in versions.rounds()] == [1]
    assert not any((versions.folder / ".staging").iterdir())
    rerun = versions.version("v2").lineage
    assert json.dumps(rerun["evaluation"], sort_keys=True) == json.dumps(uninterrupted["evaluation"], sort_keys=True)
    assert rerun["data"] == uninterrupted["data"]
