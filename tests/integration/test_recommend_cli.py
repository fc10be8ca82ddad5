"""Recommendation end to end on the bundled demo data and a tiny encoder: train, predict, evaluate, errors."""

import csv
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.tasks import load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "recsys"
runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _config(tmp_path: Path, encoder: Path, interactions: Path = EXAMPLES / "interactions.csv") -> Path:
    cfg = {
        "task": "recommendation",
        "model": str(encoder),
        "data": {"train": str(interactions)},
        "recommend": {
            "items": str(EXAMPLES / "items.csv"),
            "rating_column": "rating",
            "cold_fraction": 0.2,
            "k": 5,
            "mf": {"factors": [8], "regularization": [0.1], "iterations": 3},
            "tower": {"dim": 16, "history": 5},
        },
        "train": {"epochs": 2, "batch_size": 128, "lr": 1e-2, "max_length": 32, "seed": 1},
        "output_dir": str(tmp_path / "runs" / "rec"),
        "tracking": "none",
    }
    path = tmp_path / "rec.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    tmp_path = tmp_path_factory.mktemp("recsys")
    result = _invoke("train", _config(tmp_path, tiny_model_dir))
    assert result.exit_code == 0, result.output
    return tmp_path / "runs" / "rec"


def test_run_directory_compares_three_models(trained_run: Path) -> None:
    for name in ("metrics.json", "report.md", "manifest.json", "config.yaml", "data_report.md", "comparison.png"):
        assert (trained_run / name).is_file(), name
    assert not (trained_run / "checkpoints").exists()
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert set(metrics["test"]) == {"popularity", "mf", "lm"}
    assert all(0 <= m["ndcg@5"] <= m["recall@5"] <= 1 and m["cases"] == 120 for m in metrics["test"].values())
    cold = metrics["cold_start"]
    assert cold["items"] == 12 and cold["lm"]["cases"] == cold["random"]["cases"] > 0
    # Popularity has no counts for held-out items: all tie, which is exactly random.
    assert cold["popularity"]["recall@5"] == pytest.approx(cold["random"]["recall@5"])
    assert "Cold start" in (trained_run / "report.md").read_text()


def test_predict_users_and_texts_reload_identically(trained_run: Path) -> None:
    records = [{"user": "u001"}, {"text": "星际冒险和机器人", "k": 3}, {"text": "space adventure with robots"}]
    first = load(trained_run).predict(records)
    assert first == load(trained_run).predict(records)
    json.dumps(first, ensure_ascii=False)
    assert len(first[0]["items"]) == 5 and len(first[1]["items"]) == 3
    seen = {r["item"] for r in csv.DictReader((EXAMPLES / "interactions.csv").open()) if r["user"] == "u001"}
    assert not seen & {item["item"] for item in first[0]["items"]}
    scores = [item["score"] for item in first[2]["items"]]
    assert scores == sorted(scores, reverse=True)

    result = _invoke("predict", trained_run, "--user", "u002", "--text", "做饺子")
    assert result.exit_code == 0 and "user u002" in result.output and "做饺子" in result.output
    result = _invoke("predict", trained_run, "--user", "nobody")
    assert result.exit_code == 2 and "unknown user 'nobody'" in result.output


def test_predict_file_and_evaluate(trained_run: Path, tmp_path: Path) -> None:
    queries = tmp_path / "queries.csv"
    queries.write_text("user\nu003\nu004\n", encoding="utf-8")
    output = tmp_path / "recs.jsonl"
    assert _invoke("predict", trained_run, "--input", queries, "--output", output).exit_code == 0
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [line["user"] for line in lines] == ["u003", "u004"] and len(json.loads(lines[0]["recommendations"])) == 5

    later = tmp_path / "later.csv"
    later.write_text(
        "user,item,rating,timestamp\nu001,m002,5,2025-01-01\nu002,m003,4,2025-01-01\nu002,m999,4,2025-01-02\n",
        encoding="utf-8",
    )
    result = _invoke("evaluate", trained_run, "--data", later)
    assert result.exit_code == 0, result.output
    metrics = json.loads((trained_run / "evaluations" / "later" / "metrics.json").read_text())
    assert set(metrics["test"]) == {"popularity", "mf", "lm"} and len(metrics["rejected_rows"]) == 1


def test_unknown_item_fails_before_training(tmp_path: Path, tiny_model_dir: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating,timestamp\nu1,m001,4,2024-01-01\nu1,m777,4,2024-01-02\n", encoding="utf-8")
    result = _invoke("train", _config(tmp_path, tiny_model_dir, bad))
    assert result.exit_code == 2
    assert "bad.csv:3: field 'item': unknown item id 'm777'" in " ".join(result.output.split())
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_data_check_reports_without_training(tmp_path: Path, tiny_model_dir: Path) -> None:
    result = _invoke("data", "check", _config(tmp_path, tiny_model_dir))
    assert result.exit_code == 0, result.output
    assert "held out items" in result.output and "cold start cases" in result.output
    assert not (tmp_path / "runs").exists()

    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating,timestamp\nu1,m001,4,2024-01-01\nu1,m777,4,2024-01-02\n", encoding="utf-8")
    result = _invoke("data", "check", _config(tmp_path, tiny_model_dir, bad))
    assert result.exit_code != 0 and "unknown item id 'm777'" in " ".join(result.output.split())
