"""`tuneforge retrain`: continual rounds on a tiny model, from a feedback file and from the serve store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from tuneforge.config.load import load_config
from tuneforge.continual import retrain
from tuneforge.registry import ModelVersions
from tuneforge.tasks import load_config as load_checked
from tuneforge.tasks import train

# Templated messages per intent, unique by order number: two intents at launch, the third arrives as feedback.
INTENTS = {
    "refund": ["I want my money back for order {n}", "我要退款，订单号{n}", "please refund the broken kettle {n}"],
    "delivery": ["where is my parcel {n}", "我的快递到哪了 {n}", "package {n} still not delivered"],
    "account": ["I cannot log in to account {n}", "账号{n}登录不了", "reset the password of user {n}"],
}


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def _rows(labels: list[str], start: int, per_label: int) -> list[tuple[str, str]]:
    return [
        (INTENTS[label][i % len(INTENTS[label])].format(n=start + i * 7 + j), label)
        for i in range(per_label)
        for j, label in enumerate(labels)
    ]


@pytest.fixture
def launched(tmp_path: Path, tiny_model_dir: Path) -> tuple[Path, ModelVersions]:
    """A launch run on two of the three intents, registered as v1 (champion)."""
    data = _write(tmp_path / "launch.csv", _rows(["refund", "delivery"], 1000, 30))
    cfg = {
        "task": "text-classification",
        "model": str(tiny_model_dir),
        "data": {"train": str(data), "split": {"validation": 0.2, "test": 0.2, "seed": 1}},
        "train": {"epochs": 2, "batch_size": 8, "lr": 1e-3, "max_length": 32, "seed": 3},
        "output_dir": str(tmp_path / "runs" / "intent"),
        "tracking": "none",
        "continual": {
            "feedback": str(tmp_path / "feedback.csv"),
            "strategy": "replay+lwf",
            "replay": {"size": 40, "per_class_min": 5},
            "gate": {
                "min_new_rows": 10,
                "max_forgetting": 1.0,
                "max_class_drop": 1.0,
                "min_gain": -1.0,
                "max_label_noise": 1.0,  # a tiny random model: its agreement with labels says nothing
            },
        },
    }
    config = tmp_path / "intent.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    run = train(load_checked(config))
    versions = ModelVersions(tmp_path / "models", "intent")
    versions.promote(versions.add(run, {"source": str(run)}, copy=True).tag, "first version")
    return config, versions


def _head(run_dir: Path) -> list[str]:
    return json.loads((run_dir / "manifest.json").read_text())["labels"]


@pytest.mark.parametrize("strategy", ["replay", "ewc", "lwf", "replay+lwf", "naive", "from-scratch"])
def test_every_strategy_runs_a_round_and_grows_the_head(launched, tmp_path: Path, strategy: str) -> None:
    config, versions = launched
    _write(tmp_path / "feedback.csv", _rows(["account", "refund"], 5000, 15))
    cfg = load_config(config, [f"continual.strategy={strategy}"])
    outcome = retrain(cfg, champion="intent", registry=versions.root)
    assert outcome.status == "promoted", outcome.reasons
    v2 = versions.version("v2")
    assert _head(v2.path) == ["delivery", "refund", "account"]  # known labels keep their rows, new ones follow
    assert v2.lineage["parent"] == "v1" and v2.lineage["strategy"] == strategy
    assert {"config", "data", "feedback", "metrics", "evaluation", "gate", "round", "train_seconds"} <= set(v2.lineage)
    assert {"train", "round_test", "regression", "feedback"} <= set(v2.lineage["data"])  # sha256 of each file
    head = json.loads((v2.path / "metrics.json").read_text())["train"].get("head_init", {})
    assert head.get("imprinted") == (None if strategy == "from-scratch" else 1)  # a fresh head does not grow
    assert versions.champion().tag == "v2"
    state = json.loads((v2.path / "continual" / "state.json").read_text())
    parent = json.loads((versions.version("v1").path / "continual" / "state.json").read_text())
    assert state["rows"]["regression"] > parent["rows"]["regression"]  # the regression set grows


def test_a_file_used_once_leaves_nothing_to_do(launched, tmp_path: Path) -> None:
    config, versions = launched
    _write(tmp_path / "feedback.csv", _rows(["account", "refund"], 5000, 15))
    cfg = load_config(config)
    assert retrain(cfg, champion="intent", registry=versions.root).status == "promoted"
    again = retrain(cfg, champion="intent", registry=versions.root)
    assert again.status == "nothing to do"
    assert [v.tag for v in versions.versions()] == ["v1", "v2"]
    from typer.testing import CliRunner

    from tuneforge.cli import app

    shown = CliRunner().invoke(app, ["models", "list", "intent", "--registry", str(versions.root)])
    flat = "".join(shown.output.split())  # the table wraps long cells
    assert shown.exit_code == 0 and "round_test" in flat.replace("│", "") and "promote" in flat


def test_dry_run_trains_nothing_and_keeps_the_round_open(launched, tmp_path: Path) -> None:
    config, versions = launched
    _write(tmp_path / "feedback.csv", _rows(["account"], 5000, 20))
    outcome = retrain(load_config(config), champion="intent", registry=versions.root, dry_run=True)
    assert outcome.status == "planned"
    assert [v.tag for v in versions.versions()] == ["v1"] and versions.rounds() == []
    assert not any((versions.folder / ".staging").glob("round-*/plan.json"))


def test_a_grown_head_keeps_the_champions_logits_for_known_labels(launched, tmp_path: Path) -> None:
    import torch

    from tuneforge.continual.strategies import HeadGrowth
    from tuneforge.tasks.text_classification.task import build_classifier

    _, versions = launched
    champion_dir = versions.champion().path / "model"
    old = build_classifier(str(champion_dir), ["delivery", "refund"], "cls").eval()
    grown = build_classifier(str(champion_dir), ["delivery", "refund", "account"], "cls").eval()

    from transformers import AutoTokenizer

    from tuneforge.data.rows import Example
    from tuneforge.tasks.text_classification.task import TextClassification

    tokenizer = AutoTokenizer.from_pretrained(champion_dir)
    task = TextClassification(tokenizer, ["delivery", "refund", "account"], 32, None, "cls")
    train = [Example(text, label, "f.csv", i) for i, (text, label) in enumerate(_rows(["account", "refund"], 9000, 4))]
    found = HeadGrowth(champion_dir)(grown, task, train, [])
    assert found["new_labels"] == 1 and found["grown"] and found["imprinted"] == 1
    weight = grown.classifier.weight.detach()
    assert torch.isclose(weight[2].norm(), weight[:2].norm(dim=1).mean())  # imprinted at the known rows' length
    ids = torch.tensor([[101, 2073, 2003, 2026, 102], [101, 7592, 102, 0, 0]])
    mask = (ids != 0).long()
    with torch.no_grad():
        before, after = (
            old(input_ids=ids, attention_mask=mask).logits,
            grown(input_ids=ids, attention_mask=mask).logits,
        )
    assert after.shape == (2, 3)
    assert torch.allclose(after[:, :2], before, atol=1e-6)


def test_new_labels_can_be_refused(launched, tmp_path: Path) -> None:
    from tuneforge.errors import ConfigError

    config, versions = launched
    _write(tmp_path / "feedback.csv", _rows(["account", "refund"], 5000, 15))
    with pytest.raises(ConfigError, match="does not know: account"):
        retrain(load_config(config, ["continual.new_labels=reject"]), champion="intent", registry=versions.root)


def test_a_round_from_the_serve_store_reads_each_feedback_row_once(launched, tmp_path: Path) -> None:
    from tuneforge.serve.db import connect
    from tuneforge.serve.feedback import FeedbackStore, LoggedPrediction

    config, versions = launched
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    store = FeedbackStore(connect(url), log_texts=True)
    rows = _rows(["account", "delivery"], 7000, 15)
    store.log_predictions(
        "intent", "text-classification", [LoggedPrediction(f"p{i}", t, {}) for i, (t, _) in enumerate(rows)]
    )
    for i, (_, label) in enumerate(rows):
        store.record(f"p{i}", "key1", label=label)
    store.log_predictions("intent", "text-classification", [LoggedPrediction("unlogged", "", {})])
    cfg = load_config(config, [f"continual.feedback={url}"])
    assert retrain(cfg, champion="intent", registry=versions.root).status == "promoted"
    round_record = versions.rounds()[0]
    assert round_record["through"] == len(rows) and round_record["rows"]["new"] > 0
    assert retrain(cfg, champion="intent", registry=versions.root).status == "nothing to do"
    for i in range(20):  # new feedback after the round: the next round reads only these
        store.record(f"p{i}", "key1", label="refund")
    again = retrain(cfg, champion="intent", registry=versions.root)
    assert again.status in ("promoted", "rejected")
    assert versions.rounds()[1]["rows"]["feedback"] == 20


def test_the_cli_round_and_a_cron_round_with_nothing_new(launched, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tuneforge.cli import app

    config, versions = launched
    _write(tmp_path / "feedback.csv", _rows(["account", "refund"], 5000, 15))
    args = ["retrain", str(config), "--champion", "intent", "--registry", str(versions.root)]
    planned = CliRunner().invoke(app, [*args, "--dry-run"])
    assert planned.exit_code == 0 and "new labels" in planned.output and [v.tag for v in versions.versions()] == ["v1"]
    assert CliRunner().invoke(app, args).exit_code == 0 and versions.champion().tag == "v2"
    again = CliRunner().invoke(app, args)  # what cron runs next week with no new feedback
    assert again.exit_code == 0 and "nothing to do" in again.output
    missing = CliRunner().invoke(
        app, ["retrain", str(config), "--champion", "nobody", "--registry", str(versions.root)]
    )
    assert missing.exit_code == 2 and "register the launch run first" in " ".join(missing.output.split())


def test_bad_feedback_rows_are_skipped_and_counted(launched, tmp_path: Path) -> None:
    config, versions = launched
    rows = _rows(["account", "refund"], 5000, 15)
    _write(tmp_path / "feedback.csv", [*rows, ("", "refund"), ("   ", "account"), ("a text without a label", "")])
    outcome = retrain(load_config(config), champion="intent", registry=versions.root)
    assert outcome.status == "promoted"
    counted = versions.rounds()[0]["rows"]
    assert counted["rejected"] == 3 and counted["feedback"] == len(rows) + 3
    assert counted["new"] + sum(counted["dropped"].values()) == len(rows)  # the rest: (near-)duplicates


def test_a_grown_heads_report_says_it_grew(launched, tmp_path: Path) -> None:
    config, versions = launched
    _write(tmp_path / "feedback.csv", _rows(["account", "refund"], 5000, 15))
    retrain(load_config(config), champion="intent", registry=versions.root)
    report = (versions.version("v2").path / "report.md").read_text()
    assert "head grew from 2 to 3 outputs" in report and "trained from scratch" not in report
