"""A finished run replaces its whole output_dir: a folder that is not a previous run is refused and left as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.errors import RunError
from tuneforge.export import merge_model
from tuneforge.rundir import check_output_dir, finalize, staging_dir

runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    folder = tmp_path / "victim"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("x\n")
    (folder / "sub" / "data.csv").write_text("text,label\nhi,a\n")
    return folder


def test_staging_and_finalize_refuse_a_folder_that_is_not_a_run(victim: Path, tmp_path: Path) -> None:
    before = _snapshot(victim)
    with pytest.raises(RunError, match="victim.*not empty.*notes.txt"):
        staging_dir(victim, resume=False)
    assert not (tmp_path / "victim.partial").exists()
    staging = tmp_path / "staged"
    staging.mkdir()
    (staging / "manifest.json").write_text("{}")
    with pytest.raises(RunError, match="victim"):
        finalize(staging, victim)
    assert _snapshot(victim) == before and (staging / "manifest.json").is_file()


def test_a_previous_run_an_empty_folder_or_nothing_is_replaced(tmp_path: Path) -> None:
    previous = tmp_path / "run"
    previous.mkdir()
    (previous / "manifest.json").write_text('{"old": true}')
    empty = tmp_path / "empty"
    empty.mkdir()
    for output in (previous, empty, tmp_path / "new"):
        staging = staging_dir(output, resume=False)
        (staging / "manifest.json").write_text("{}")
        finalize(staging, output)
        assert (output / "manifest.json").read_text() == "{}" and not staging.exists()


def test_an_interrupted_run_is_restarted_but_a_foreign_partial_folder_is_kept(tmp_path: Path) -> None:
    interrupted = tmp_path / "run.partial"
    interrupted.mkdir()
    (interrupted / "config.yaml").write_text("task: x\n")
    assert staging_dir(tmp_path / "run", resume=False) == interrupted
    assert list(interrupted.iterdir()) == []
    foreign = tmp_path / "mine.partial"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    with pytest.raises(RunError, match="mine.partial"):
        staging_dir(tmp_path / "mine", resume=False)
    assert (foreign / "notes.txt").read_text() == "x"


@pytest.mark.parametrize("name", [".", "..", "/"])
def test_the_current_folder_its_parents_and_the_root_are_refused(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    with pytest.raises(RunError, match="current folder"):
        check_output_dir(Path(name))
    with pytest.raises(RunError, match="current folder"):
        staging_dir(Path(name), resume=False)


def test_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with pytest.raises(RunError, match="is a file"):
        check_output_dir(tmp_path / "out")


def test_cli_train_refuses_a_non_run_folder_byte_identical(make_config, victim: Path, tmp_path: Path) -> None:
    before = _snapshot(victim)
    result = _invoke("train", make_config(), "--set", f"output_dir={victim}")
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "victim" in result.output
    assert _snapshot(victim) == before and not (tmp_path / "victim.partial").exists()


def test_cli_train_refuses_output_dir_dot(make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config()
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "keep.txt").write_text("x")
    monkeypatch.chdir(tmp_path / "work")
    result = _invoke("train", config, "--set", "output_dir=.")
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "current folder" in result.output
    assert (tmp_path / "work" / "keep.txt").read_text() == "x"


@pytest.mark.parametrize("command", ["train", "data check"])
def test_cli_refuses_an_output_dir_holding_the_data(command: str, make_config, tmp_path: Path) -> None:
    config = make_config()
    before = _snapshot(tmp_path)
    result = _invoke(*command.split(), config, "--set", f"output_dir={tmp_path}")
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "data.train" in result.output
    assert _snapshot(tmp_path) == before


def test_merge_refuses_a_folder_that_is_not_a_model_dir(tiny_model_dir: Path, victim: Path, tmp_path: Path) -> None:
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    before = _snapshot(victim)
    with pytest.raises(RunError, match="victim.*Hugging Face model dir"):
        merge_model(model, tokenizer, "full", victim)
    assert _snapshot(victim) == before
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text("{}")
    with pytest.raises(RunError, match="Hugging Face model dir"):  # a run is not overwritten by a merged model
        merge_model(model, tokenizer, "full", run)
    merged = tmp_path / "merged"
    for _ in range(2):  # a previous merged model dir is replaced
        merge_model(model, tokenizer, "full", merged)
        assert (merged / "config.json").is_file()
