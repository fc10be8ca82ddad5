"""The real CLI end to end on a tiny model: train, predict, evaluate, data check, and user-facing errors."""

import csv
import json
from pathlib import Path

import yaml
from transformers import AutoModelForSequenceClassification
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.tasks.text_classification.estimator import TextClassifier

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_train_predict_evaluate(make_config, tmp_path: Path) -> None:
    config = make_config()
    result = _invoke("train", config, "--set", "train.epochs=3")
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "tiny"
    for name in (
        "metrics.json",
        "report.md",
        "manifest.json",
        "config.yaml",
        "data_report.md",
        "confusion_test.png",
        "learning_curve.png",
        "model/config.json",
    ):
        assert (run / name).is_file(), name
    assert not (run / "checkpoints").exists() and not (tmp_path / "runs" / "tiny.partial").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test"]) >= {"accuracy", "macro_f1", "weighted_f1", "per_class", "confusion"}
    assert 0 <= metrics["validation"]["macro_f1"] <= 1
    assert len(metrics["history"]) == 3

    model = AutoModelForSequenceClassification.from_pretrained(run / "model")
    assert sorted(model.config.id2label.values()) == ["account", "delivery", "refund"]
    predictions = TextClassifier.load(run).predict(["我的快递到哪了", "reset my password please"])
    assert all(p.label in model.config.id2label.values() for p in predictions)
    assert all(abs(sum(p.probabilities.values()) - 1) < 1e-4 for p in predictions)

    result = _invoke("predict", run, "--text", "我的快递到哪了")
    assert result.exit_code == 0 and "我的快递到哪了" in result.output

    source = tmp_path / "new.csv"
    source.write_text("id,text\nm1,where is my parcel 9\nm2,我要退款\n", encoding="utf-8")
    scored = tmp_path / "scored.csv"
    assert _invoke("predict", run, "--input", source, "--output", scored).exit_code == 0
    rows = list(csv.DictReader(scored.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["m1", "m2"] and rows[1]["text"] == "我要退款"
    assert all(r["label"] in model.config.id2label.values() and 0 < float(r["score"]) <= 1 for r in rows)

    data = tmp_path / "intents.csv"
    result = _invoke("evaluate", run, "--data", data)
    assert result.exit_code == 0, result.output
    evaluation = json.loads((run / "evaluations" / "intents" / "metrics.json").read_text())
    assert evaluation["test"]["size"] == 60


def test_config_errors_are_messages_not_tracebacks(make_config) -> None:
    config = make_config(train={"lr": -1, "epocs": 2})
    result = _invoke("train", config)
    assert result.exit_code == 2
    assert "'train.lr'" in result.output and "did you mean 'epochs'" in result.output
    assert "Traceback" not in result.output


def test_bad_rows_fail_or_skip(make_config, tmp_path: Path, intents_csv: Path) -> None:
    lines = intents_csv.read_text(encoding="utf-8").splitlines()
    lines[5] = ",refund"  # empty text, line 6
    lines[9] = "where is my parcel 77,unknown_label"  # line 10
    intents_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    labels = ["account", "delivery", "refund"]
    config = make_config(data={"train": str(intents_csv), "labels": labels, "split": {"validation": 0.2, "test": 0.2}})
    result = _invoke("data", "check", config)
    assert result.exit_code == 1
    assert f"{intents_csv}:6" in result.output and f"{intents_csv}:10" in result.output

    config = make_config(
        data={"train": str(intents_csv), "labels": labels, "on_error": "skip"},
        train={"epochs": 1, "batch_size": 8, "max_length": 32},
    )
    assert _invoke("train", config).exit_code == 0
    rejected = list(csv.DictReader((tmp_path / "runs" / "tiny" / "rejected_rows.csv").open(encoding="utf-8")))
    assert sorted(int(r["line"]) for r in rejected) == [6, 10]
    report = json.loads((tmp_path / "runs" / "tiny" / "data_report.json").read_text())
    assert report["dropped"]["rejected"] == 2
    assert sum(split["rows"] for split in report["splits"].values()) == 58


def test_run_config_is_resolved(make_config, tmp_path: Path) -> None:
    config = make_config(train={"epochs": 1, "batch_size": 8, "max_length": 32})
    assert _invoke("train", config).exit_code == 0
    saved = yaml.safe_load((tmp_path / "runs" / "tiny" / "config.yaml").read_text())
    assert saved["train"]["epochs"] == 1 and saved["train"]["lr"] == 5e-5


def test_extend_vocab_trains_and_predicts_chinese(make_config, tmp_path: Path) -> None:
    rows = [("我的退款什么时候到账", "refund"), ("退款多久能到账", "refund"), ("包裹什么时候发货", "delivery")]
    rows += [("where is my refund", "refund"), ("when will my parcel ship", "delivery")]
    data = tmp_path / "zh.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [("text", "label"), *(rows * 1), *((f"{t} {i}", y) for i in range(8) for t, y in rows)]
        )
    config = make_config(data={"train": str(data), "split": {"validation": 0.2, "test": 0, "seed": 1}})

    checked = _invoke("data", "check", config)
    assert "unknown to the tokenizer" in checked.output and "extend_vocab" in checked.output
    result = _invoke("train", config, "--set", "extend_vocab=true", "--set", "train.epochs=1")
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "tiny"
    report = (run / "data_report.md").read_text(encoding="utf-8")
    assert "extend_vocab: added" in report
    assert "## By script (validation)" in (run / "report.md").read_text(encoding="utf-8")
    classifier = TextClassifier.load(run)
    vocabulary = classifier.task.tokenizer.get_vocab()
    assert "退" in vocabulary and "款" in vocabulary
    assert classifier.model.get_input_embeddings().num_embeddings == len(classifier.task.tokenizer)
    assert classifier.predict(["退款到账了吗"])[0].label in {"refund", "delivery"}
