"""tabular-classification through the real CLI on the bundled credit demo, with a tiny BERT as the language model:
train (four families, CV), predict, evaluate, the library predictor, resume, and user-facing errors."""

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.errors import DataError
from tuneforge.tasks import load

DEMO = Path(__file__).resolve().parents[2] / "examples" / "credit"
runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def tabular_config(tmp_path: Path, tiny_model_dir: Path):
    def make(**settings: object) -> Path:
        cfg = {
            "task": "tabular-classification",
            "model": str(tiny_model_dir),
            "data": {"train": str(DEMO / "applications.csv"), "label_column": "label"},
            "tabular": {
                "positive_label": "bad",
                "folds": 3,
                "importance_repeats": 2,
                "mlp": {"epochs": 3},
                "lm": {"epochs": 1, "batch_size": 32, "lr": 1e-3, "max_length": 64},
                **settings,
            },
            "output_dir": str(tmp_path / "runs" / "credit"),
            "tracking": "none",
        }
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        return path

    return make


def test_train_compares_four_families_then_predicts_and_evaluates(tabular_config, tmp_path: Path) -> None:
    result = _invoke("train", tabular_config())
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "credit"
    for name in ("metrics.json", "report.md", "manifest.json", "schema.json", "config.yaml", "data_report.md"):
        assert (run / name).is_file(), name
    assert (run / "calibration.png").stat().st_size > 0 and (run / "importance.png").stat().st_size > 0
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert list(metrics["models"]) == ["hgb", "logreg", "mlp", "lm"]
    for family in metrics["models"].values():
        assert len(family["folds"]) == 3
        assert 0 <= family["metrics"]["roc_auc"]["mean"] <= 1 and family["metrics"]["roc_auc"]["std"] >= 0
        assert 0 <= family["threshold"] <= 1
    best = metrics["best_model"]
    assert best == max(metrics["models"], key=lambda k: metrics["models"][k]["metrics"]["roc_auc"]["mean"])
    # The demo's ground truth is a logistic model with real signal: the best family finds some of it.
    assert metrics["models"][best]["metrics"]["roc_auc"]["mean"] > 0.65
    report = (run / "report.md").read_text(encoding="utf-8")
    assert all(name in report for name in ("HistGradientBoosting", "Logistic regression", "MLP", "Language model"))
    assert "cost/row" in report and set(metrics["permutation_importance"]["columns"]) >= {"age", "purpose"}

    scored = tmp_path / "scored.jsonl"
    assert _invoke("predict", run, "--input", DEMO / "new_applications.csv", "--output", scored).exit_code == 0
    rows = [json.loads(line) for line in scored.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 30 and rows[0]["purpose"]  # input columns kept
    manifest = json.loads((run / "manifest.json").read_text())
    for row in rows:
        assert row["decision"] == ("bad" if row["probability"] >= manifest["threshold"] else "good")
        assert len(row["top_features"]) == 3 and {"feature", "value", "contribution"} <= set(row["top_features"][0])

    predictor = load(run)
    records = list(csv.DictReader((DEMO / "new_applications.csv").open(encoding="utf-8")))
    again = predictor.predict(records)
    assert [r["probability"] for r in again] == [r["probability"] for r in rows]
    json.dumps(again)  # JSON-able, for the serving app
    with pytest.raises(DataError, match="record:1: field 'age': expected a number, got 'forty'"):
        predictor.predict([{**records[0], "age": "forty"}])

    result = _invoke("evaluate", run, "--data", DEMO / "new_applications.csv")
    assert result.exit_code == 0, result.output
    evaluation = json.loads((run / "evaluations" / "new_applications" / "metrics.json").read_text())
    assert evaluation["size"] == 30 and 0 <= evaluation["roc_auc"] <= 1


def test_resume_reuses_finished_folds(tabular_config, tmp_path: Path) -> None:
    config = tabular_config(models=["logreg", "hgb"])
    assert _invoke("train", config).exit_code == 0
    run = tmp_path / "runs" / "credit"
    first = json.loads((run / "metrics.json").read_text())
    # An interrupted run: the staging dir holds the folds that finished, here every logreg fold.
    staging = tmp_path / "runs" / "credit.partial"
    shutil.copytree(run, staging)
    for path in (staging / "cv").glob("hgb-*.json"):
        path.unlink()
    (staging / "cv" / "logreg-0.json").write_text(json.dumps({"probabilities": [0.5] * 100, "seconds": 0}))
    assert _invoke("train", config, "--resume").exit_code == 0
    resumed = json.loads((run / "metrics.json").read_text())
    # The cached fold (a constant 0.5) was reused, not refitted: its fold scores ROC-AUC 0.5.
    assert resumed["models"]["logreg"]["folds"][0]["roc_auc"] == 0.5
    assert resumed["models"]["hgb"] == first["models"]["hgb"] | {
        "fit_seconds": resumed["models"]["hgb"]["fit_seconds"]
    }


def test_bad_rows_fail_with_file_line_and_column(tabular_config, tmp_path: Path) -> None:
    dirty = tmp_path / "dirty.csv"
    lines = (DEMO / "applications.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[1], "lots", 1)
    dirty.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = tabular_config()
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["data"]["train"] = str(dirty)
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["data", "check", str(config)])
    assert result.exit_code == 1 and f"{dirty}:4: field 'monthly_income'" in " ".join(result.output.split())
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 2
    assert f"{dirty}:4: field 'monthly_income': expected a number, got 'lots'" in " ".join(result.output.split())
    assert not (tmp_path / "runs" / "credit").exists()
