"""A collapsed model is not saved without a word: one class for every text, or no entities, is a warning in the
terminal, metrics.json and report.md."""

import json

import pytest
from rich.console import Console

from tuneforge import run as run_module
from tuneforge.config import load_config
from tuneforge.tasks import train
from tuneforge.tasks.causal_lm_sft.task import CausalLMSft
from tuneforge.tasks.text_classification.task import TextClassification
from tuneforge.tasks.token_classification.task import TokenClassification


def _classifier() -> TextClassification:
    task = TextClassification.__new__(TextClassification)
    task.labels = ["refund", "delivery", "other"]
    return task


def test_one_class_for_almost_every_text_is_a_warning() -> None:
    collapsed = {"test": {"confusion": [[30, 0, 0], [29, 1, 0], [20, 0, 0]]}}  # 79 of 80 predicted 'refund'
    (warning,) = _classifier().warnings(collapsed)
    assert "'refund' for 99% of 80 texts" in warning and "3 classes" in warning and "train.lr" in warning
    assert _classifier().warnings({"test": {"confusion": [[30, 0, 0], [5, 25, 0], [0, 0, 20]]}}) == []
    assert _classifier().warnings({"validation": {"confusion": [[40, 0, 0], [0, 0, 0], [0, 0, 0]]}}) == []


def test_no_entities_found_is_a_warning() -> None:
    task = TokenClassification.__new__(TokenClassification)
    collapsed = {"test": {"entities": 400, "predicted_entities": 3, "token_accuracy": 0.83}}
    (warning,) = task.warnings(collapsed)
    assert "found 3 entities where the data has 400" in warning and "0.8300" in warning and "train.epochs" in warning
    assert task.warnings({"test": {"entities": 400, "predicted_entities": 350, "token_accuracy": 0.97}}) == []
    assert task.warnings({"test": {"entities": 4, "predicted_entities": 0, "token_accuracy": 0.9}}) == []


def test_a_task_without_the_hook_has_no_warnings() -> None:
    assert run_module.model_warnings(CausalLMSft.__new__(CausalLMSft), {"test": {}}) == []


def test_warnings_reach_terminal_metrics_and_report(
    make_config, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(TextClassification, "warnings", lambda self, results: ["test: collapsed [demo]"])
    monkeypatch.setattr(run_module, "get_console", lambda: Console(width=200))
    out_dir = train(load_config(make_config()))
    assert json.loads((out_dir / "metrics.json").read_text())["warnings"] == ["test: collapsed [demo]"]
    assert "## Warnings\n\n- test: collapsed [demo]\n" in (out_dir / "report.md").read_text()
    out = capsys.readouterr().out
    assert "warning: test: collapsed [demo]" in out
    assert "evaluating test (" in out and "writing plots, metrics.json and report.md" in out
