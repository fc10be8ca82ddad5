"""kill -9 in the middle of training, then --resume: same metrics as an uninterrupted run, prior run intact."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _train(config: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tuneforge", "train", str(config), *extra], capture_output=True, text=True, timeout=300
    )


def _wait_for_step(state: Path, step: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"training ended before step {step}: {process.stderr.read()}")
        try:
            if json.loads(state.read_text())["step"] >= step:
                return
        except (OSError, ValueError):
            pass  # not written yet, or replaced between exists and read
        time.sleep(0.05)
    pytest.fail(f"no checkpoint at step {step} within {timeout}s")


def test_kill_9_then_resume(make_config, tmp_path: Path) -> None:
    config = make_config(
        train={
            "epochs": 12,
            "batch_size": 4,
            "lr": 1e-3,
            "max_length": 32,
            "seed": 5,
            "eval_every": 10,
            "save_every": 3,
            "early_stopping": None,
        }
    )
    run = tmp_path / "runs" / "tiny"
    first = _train(config)
    assert first.returncode == 0, first.stderr
    reference = json.loads((run / "metrics.json").read_text())

    process = subprocess.Popen(
        [sys.executable, "-m", "tuneforge", "train", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_step(tmp_path / "runs" / "tiny.partial" / "checkpoints" / "last" / "state.json", 40, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # The finished run is untouched by the killed one.
    assert json.loads((run / "metrics.json").read_text()) == reference

    resumed = _train(config, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    for split in ("validation", "test"):
        for key in ("accuracy", "macro_f1", "loss", "confusion"):
            assert metrics[split][key] == reference[split][key], (split, key)
    assert [h["loss"] for h in metrics["history"]] == [h["loss"] for h in reference["history"]]
    assert [h["train_loss"] for h in metrics["history"]] == [h["train_loss"] for h in reference["history"]]


def test_resume_without_interrupted_run_is_a_clear_error(make_config) -> None:
    result = _train(make_config(), "--resume")
    assert result.returncode == 2
    assert "nothing to resume" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="gloo DDP test runs on Linux CI")
@pytest.mark.parametrize("adversarial", [None, {"epsilon": 0.01}])  # FGM: two backward passes, one all-reduce
def test_two_processes_ddp_on_cpu(make_config, tmp_path: Path, adversarial: dict | None) -> None:
    train = {"epochs": 2, "batch_size": 4, "lr": 1e-3, "max_length": 32, "adversarial": adversarial}
    config = make_config(train=train)
    accelerate = Path(sys.executable).with_name("accelerate")
    result = subprocess.run(
        [
            str(accelerate),
            "launch",
            "--multi_gpu",
            "--num_processes",
            "2",
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
            "-m",
            "tuneforge",
            "train",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "runs" / "tiny" / "metrics.json").read_text())
    # 36 training examples, 4 per batch, two processes: 4 optimiser steps per epoch.
    assert metrics["train"]["steps"] == 8
    assert len(metrics["history"]) == 2
