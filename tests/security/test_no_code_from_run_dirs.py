"""A planted pickle in a run folder runs nothing: --resume and tabular loading refuse it with a tuneforge error."""

from __future__ import annotations

import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import get_scheduler

from tuneforge.errors import RunError
from tuneforge.training.checkpoint import TrainerState, capture_rng, load_checkpoint, save_checkpoint


class _Planted:
    """Unpickling this creates `marker`: what an attacker's file in a run folder would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _trainer_parts() -> tuple[torch.nn.Module, torch.optim.Optimizer, object]:
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = get_scheduler("linear", optimizer, num_warmup_steps=2, num_training_steps=10)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    scheduler.step()
    return model, optimizer, scheduler


def _interrupted_run(tmp_path: Path) -> Path:
    last = tmp_path / "runs" / "tiny.partial" / "checkpoints" / "last"
    model, optimizer, scheduler = _trainer_parts()
    save_checkpoint(
        last, model=model, optimizer=optimizer, scheduler=scheduler, state=TrainerState(step=1), rng=capture_rng()
    )
    return last


def test_checkpoint_round_trip_restores_every_rng(tmp_path: Path) -> None:
    last = _interrupted_run(tmp_path)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    # capture_rng was taken before `expected` was drawn, so restoring it must draw the same numbers again.
    model, optimizer, scheduler = _trainer_parts()
    state = load_checkpoint(last, model=model, optimizer=optimizer, scheduler=scheduler)
    assert state.step == 1
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
    assert scheduler.state_dict()["last_epoch"] == 1


@pytest.mark.parametrize("how", ["torch.save", "pickle.dump"])
def test_planted_pickle_in_checkpoint_runs_nothing_on_resume(tmp_path: Path, how: str) -> None:
    last = _interrupted_run(tmp_path)
    marker = tmp_path / "pwned"
    planted = {"optimizer": _Planted(marker)}
    if how == "torch.save":
        torch.save(planted, last / "train.pt")
    else:
        (last / "train.pt").write_bytes(pickle.dumps(planted))
    model, optimizer, scheduler = _trainer_parts()
    with pytest.raises(RunError, match="older tuneforge"):
        load_checkpoint(last, model=model, optimizer=optimizer, scheduler=scheduler)
    assert not marker.exists()


def test_the_planted_pickle_is_live(tmp_path: Path) -> None:
    # Guards the tests above: unpickled without protection, the planted object does create its marker.
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Planted(marker)))  # noqa: S301 - the point of this test
    assert marker.exists()


def test_train_resume_over_a_planted_checkpoint_is_a_clear_error(make_config, tmp_path: Path) -> None:
    config = make_config()
    last = tmp_path / "runs" / "tiny.partial" / "checkpoints" / "last"
    last.mkdir(parents=True)
    (last / "state.json").write_text("{}")
    marker = tmp_path / "pwned"
    torch.save({"optimizer": _Planted(marker)}, last / "train.pt")
    result = subprocess.run(
        [sys.executable, "-m", "tuneforge", "train", str(config), "--resume"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "older tuneforge" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not marker.exists()


@pytest.fixture(scope="module")
def tabular_run(tmp_path_factory) -> Path:
    """A finished credit-demo run of the scikit-learn families and the MLP (no language model: it has no pickle)."""
    import yaml

    from tuneforge.tasks import train

    root = tmp_path_factory.mktemp("tabular")
    demo = Path(__file__).resolve().parents[2] / "examples" / "credit"
    cfg = {
        "task": "tabular-classification",
        "data": {"train": str(demo / "applications.csv"), "label_column": "label"},
        "tabular": {
            "positive_label": "bad",
            "folds": 2,
            "importance_repeats": 1,
            "models": ["hgb", "logreg", "mlp"],
            "mlp": {"epochs": 1},
        },
        "output_dir": str(root / "credit"),
        "tracking": "none",
    }
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))
    from tuneforge import load_config

    return train(load_config(root / "config.yaml"))


@pytest.mark.parametrize(
    ("family", "file"), [("hgb", "estimator.skops"), ("logreg", "estimator.skops"), ("mlp", "preprocess.skops")]
)
@pytest.mark.parametrize("planted_as", ["pickle", "skops"])
def test_planted_file_in_a_tabular_model_runs_nothing(
    tabular_run: Path, tmp_path: Path, family: str, file: str, planted_as: str
) -> None:
    import skops.io as sio

    from tuneforge.rundir import read_json, run_config
    from tuneforge.tasks.tabular.data import load_training
    from tuneforge.tasks.tabular.families import FAMILIES, make_family
    from tuneforge.tasks.tabular.schema import Schema

    cfg = run_config(tabular_run)
    data = load_training(cfg)
    schema = Schema.from_dict(read_json(tabular_run / "schema.json"))
    folder = tmp_path / "model"
    fitted = make_family(family, data.schema, cfg).fit(data.parsed.frame, data.parsed.labels)
    fitted.save(folder)
    reloaded = FAMILIES[family]().load(folder, schema, cfg)
    # Within float noise: after other tests in the process the MLP may predict under another thread count.
    expected = fitted.predict_proba(data.parsed.frame)
    np.testing.assert_allclose(reloaded.predict_proba(data.parsed.frame), expected, rtol=0, atol=1e-3)

    marker = tmp_path / "pwned"
    if planted_as == "pickle":
        (folder / file).write_bytes(pickle.dumps(_Planted(marker)))
    else:
        sio.dump(_Planted(marker), folder / file)
    with pytest.raises(RunError):
        FAMILIES[family]().load(folder, schema, cfg)
    assert not marker.exists()


def test_predict_over_an_old_pickled_run_is_a_clear_error(tabular_run: Path, tmp_path: Path) -> None:
    import shutil

    from tuneforge.tasks import load

    run = tmp_path / "credit"
    shutil.copytree(tabular_run, run)
    marker = tmp_path / "pwned"
    for saved in (run / "model").glob("*.skops"):
        saved.unlink()
        saved.with_suffix(".pkl").write_bytes(pickle.dumps(_Planted(marker)))
    with pytest.raises(RunError, match="older tuneforge"):
        load(run)
    assert not marker.exists()


def test_a_run_of_another_scikit_learn_is_refused(tabular_run: Path, tmp_path: Path) -> None:
    import json
    import shutil

    from tuneforge.tasks import load

    run = tmp_path / "credit"
    shutil.copytree(tabular_run, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["versions"]["scikit-learn"] = "0.24.2"
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunError, match="scikit-learn 0.24.2"):
        load(run)
