"""ModelVersions: atomic adds, tags never reused, promote / rollback history, crash leftovers, rounds, MLflow."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from tuneforge.errors import ConfigError, RunError
from tuneforge.registry import ModelVersions


def fake_run(folder: Path, label: str = "a") -> Path:
    """A run dir as far as the registry looks: manifest.json and a file of its own."""
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"task": "text-classification", "labels": [label]}))
    (folder / "weights.bin").write_bytes(b"\0" * 16)
    return folder


def test_add_moves_the_run_in_with_lineage_and_promote_rollback_keep_history(tmp_path: Path) -> None:
    intent = ModelVersions(tmp_path / "models", "intent")
    assert not intent.exists() and intent.champion() is None
    v1 = intent.add(fake_run(tmp_path / "r1"), {"source": "r1", "metrics": {"accuracy": 0.8}})
    assert v1.tag == "v1" and not (tmp_path / "r1").exists() and (v1.path / "weights.bin").is_file()
    assert json.loads((v1.path / "lineage.json").read_text())["parent"] is None
    assert intent.champion() is None  # add does not promote
    intent.promote("v1", "first version")
    v2 = intent.add(fake_run(tmp_path / "r2"), {"source": "r2"})
    v3 = intent.add(fake_run(tmp_path / "r3"), {"parent": "v1"})
    assert (v2.lineage["parent"], v3.lineage["parent"]) == ("v1", "v1")  # parent: the champion unless given
    assert [v.tag for v in intent.versions()] == ["v1", "v2", "v3"]

    intent.promote("v3", "better")
    pointer = json.loads(intent.pointer_path.read_text())
    assert pointer["version"] == "v3" and pointer["history"] == ["v1", "v3"] and pointer["reason"] == "better"
    assert intent.rollback().tag == "v1"
    assert json.loads(intent.pointer_path.read_text())["history"] == ["v1"]
    with pytest.raises(RunError, match="no previous champion"):
        intent.rollback()
    with pytest.raises(RunError, match="v1, v2, v3"):
        intent.version("v9")


def test_tags_are_never_reused(tmp_path: Path) -> None:
    intent = ModelVersions(tmp_path / "models", "intent")
    for i in range(10):
        intent.add(fake_run(tmp_path / f"r{i}"), {})
    assert [v.tag for v in intent.versions()][-2:] == ["v9", "v10"]  # by number, not by string
    intent.promote("v10", "x")
    shutil.rmtree(intent.folder / "v10")  # removed by hand: its tag stays taken (it is in the history)
    assert intent.add(fake_run(tmp_path / "again"), {}).tag == "v11"


def _add_many(root: str, start: int, count: int) -> None:
    versions = ModelVersions(Path(root), "intent")
    for i in range(start, start + count):
        versions.add(fake_run(Path(root).parent / f"p{i}"), {}, copy=True)


def test_two_processes_never_take_the_same_tag(tmp_path: Path) -> None:
    root = tmp_path / "models"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add_many, args=(str(root), n * 10, 5)) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    assert [v.tag for v in ModelVersions(root, "intent").versions()] == [f"v{i}" for i in range(1, 11)]


def test_copy_leaves_the_run_and_refuses_a_folder_without_manifest(tmp_path: Path) -> None:
    intent = ModelVersions(tmp_path / "models", "intent")
    run = fake_run(tmp_path / "run")
    version = intent.add(run, {}, copy=True)
    assert (run / "manifest.json").is_file() and not (run / "lineage.json").exists()
    assert (version.path / "lineage.json").is_file()
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match="no manifest.json"):
        intent.add(tmp_path / "empty", {})
    with pytest.raises(ConfigError, match="model name"):
        ModelVersions(tmp_path, "../escape")


def test_crash_leftovers_are_ignored_then_cleaned(tmp_path: Path) -> None:
    intent = ModelVersions(tmp_path / "models", "intent")
    intent.add(fake_run(tmp_path / "r1"), {})
    intent.promote("v1", "first version")
    # What a kill -9 leaves: a half copy, a folder renamed by hand without lineage, a pointer's tmp file.
    fake_run(intent.folder / ".incoming-v2")
    fake_run(intent.folder / "v3")
    (intent.folder / ".champion.json.123.tmp").write_text('{"vers')
    assert [v.tag for v in intent.versions()] == ["v1"] and intent.champion().tag == "v1"  # type: ignore[union-attr]
    assert intent.add(fake_run(tmp_path / "r2"), {}).tag == "v4"  # v3's folder keeps its tag taken
    assert not (intent.folder / ".incoming-v2").exists()
    assert not (intent.folder / ".champion.json.123.tmp").exists()


def test_staging_is_on_the_registry_filesystem_and_reused(tmp_path: Path) -> None:
    intent = ModelVersions(tmp_path / "models", "intent")
    staged = intent.staging("round-1")
    assert staged == intent.staging("round-1") and staged.is_dir()
    fake_run(staged / "run")
    version = intent.add(staged / "run", {"source": "round-1"})
    assert version.tag == "v1" and os.stat(version.path).st_dev == os.stat(intent.folder).st_dev
    with pytest.raises(ConfigError):
        intent.staging("a/b")


def test_rounds_skip_a_torn_last_line(tmp_path: Path) -> None:
    intent = ModelVersions(tmp_path / "models", "intent")
    intent.record_round({"round": 1, "decision": "promoted"})
    intent.record_round({"round": 2, "decision": "rejected"})
    with (intent.folder / "rounds.jsonl").open("a") as handle:
        handle.write('{"round": 3, "deci')  # killed mid-write
    assert [r["round"] for r in intent.rounds()] == [1, 2]


def test_mlflow_mirror_registers_versions_and_moves_aliases(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("intent")
    run_ids = []
    for _ in range(2):
        with mlflow.start_run() as run:
            run_ids.append(run.info.run_id)
    intent = ModelVersions(tmp_path / "models", "intent")
    for i, run_id in enumerate(run_ids):
        intent.add(fake_run(tmp_path / f"r{i}"), {"tracking": {"tracking_uri": uri, "run_id": run_id}})
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert client.get_model_version_by_alias("intent", "challenger").tags["tuneforge_version"] == "v2"

    intent.promote("v1", "first version")
    assert client.get_model_version_by_alias("intent", "champion").tags["tuneforge_version"] == "v1"
    intent.promote("v2", "better")
    assert client.get_model_version_by_alias("intent", "champion").run_id == run_ids[1]
    assert "challenger" not in client.get_registered_model("intent").aliases  # it became champion
    intent.rollback()
    assert client.get_model_version_by_alias("intent", "champion").tags["tuneforge_version"] == "v1"


def test_an_unreachable_mlflow_does_not_undo_the_add(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    intent = ModelVersions(tmp_path / "models", "intent")
    tracking = {"tracking_uri": "http://127.0.0.1:9", "run_id": "abc"}
    version = intent.add(fake_run(tmp_path / "r"), {"tracking": tracking})
    assert version.tag == "v1" and "not mirrored" in caplog.text
