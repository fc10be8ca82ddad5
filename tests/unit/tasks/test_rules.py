"""The config rules read the task and method tables, run before any work and report every problem at once."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.config.root import TASK_NAMES
from tuneforge.errors import ConfigError
from tuneforge.methods import METHODS
from tuneforge.tasks import TASKS, load_config
from tuneforge.tasks.rules import _OPTION_DEFAULTS


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "train.csv").write_text("text,label\nhi,a\nho,b\n", encoding="utf-8")
    path = tmp_path / "cfg.yaml"
    path.write_text(text.replace("TRAIN", str(tmp_path / "train.csv")), encoding="utf-8")
    return path


def test_the_config_names_exactly_the_tasks_of_the_table() -> None:
    assert set(TASK_NAMES) == set(TASKS)


def test_every_row_names_known_methods_and_options() -> None:
    for spec in TASKS.values():
        assert spec.methods and set(spec.methods) <= set(METHODS), spec.name
        assert set(spec.options) <= set(_OPTION_DEFAULTS), spec.name
    assert set(METHODS) == {m for spec in TASKS.values() for m in spec.methods}  # no method without a task


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    path = _config(tmp_path, "task: token-classification\ndata: {train: TRAIN, format: csv}\n")
    overrides = ["method=setfit", "pooling=mean", "train.packing=true", "data.clean.redact_pii=true"]
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    problems = caught.value.problems
    assert str(path) in str(caught.value) and len(problems) == 4
    assert any("method setfit does not fit task token-classification" in p for p in problems)
    assert any("pooling is an option of task text-classification" in p for p in problems)
    assert any("data.format csv holds nothing task token-classification reads" in p for p in problems)
    assert any("redact_pii" in p for p in problems)  # the task's own rule, beside the tables' ones


def test_data_check_refuses_a_run_time_rule_before_reading_data(tmp_path: Path) -> None:
    # Packing and the recommendation block used to be checked only when training started.
    path = _config(tmp_path, "task: recommendation\ndata: {train: TRAIN}\n")
    result = CliRunner().invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 2 and "'recommend:'" in result.output
    path = _config(tmp_path, "data: {train: TRAIN}\n")
    result = CliRunner().invoke(app, ["data", "check", str(path), "--set", "train.packing=true"])
    assert result.exit_code == 2 and "train.packing: true is not supported" in result.output
