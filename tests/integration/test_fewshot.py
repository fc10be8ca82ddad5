"""Zero-shot and few-shot methods through the normal pipeline: a complete run dir with the usual metrics, reload
with identical predictions, `predict` and `compare` on them, no merge. Tiny random models from conftest: a BERT,
and a Llama with a chat template for zeroshot-llm."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.config import load_config
from tuneforge.errors import ConfigError, RunError
from tuneforge.export import merge_run
from tuneforge.run import check_loop_data
from tuneforge.tasks import train
from tuneforge.tasks.text_classification.estimator import TextClassifier
from tuneforge.tasks.text_classification.task import TextClassification


def _block(method: str, llm_dir: Path) -> dict:
    return {
        "zeroshot-embed": {
            "name": "zeroshot-embed",
            "template": "a message about {label}",
            "descriptions": {"refund": ["money back", "退款"], "account": "login and password"},
        },
        "zeroshot-llm": {"name": "zeroshot-llm", "model": str(llm_dir), "descriptions": {"refund": "money back"}},
        "setfit": {"name": "setfit", "shots": 4, "iterations": 2, "sample_seed": 5},
    }[method]


def test_setfit_trains_on_the_descriptions_too(make_config, tmp_path: Path) -> None:
    (tmp_path / "intents.yaml").write_text("refund: I want my money back\naccount: 我登录不了\n", encoding="utf-8")
    block = _block("setfit", tmp_path) | {"descriptions": str(tmp_path / "intents.yaml")}
    train_cfg = {"batch_size": 4, "lr": 1e-3, "max_length": 32, "seed": 3}
    run = train(load_config(make_config(method=block, train=train_cfg)))
    # (4 shots x 3 labels + 2 descriptions) x 2 iterations x 2 pairs = 56 pairs, batches of 4
    assert json.loads((run / "metrics.json").read_text())["train"]["steps"] == 14


@pytest.mark.parametrize("method", ["zeroshot-embed", "zeroshot-llm", "setfit"])
def test_few_shot_run_contract(method: str, make_config, tiny_llama_dir: Path, tmp_path: Path) -> None:
    train_cfg = {"batch_size": 4, "lr": 1e-3, "max_length": 32, "seed": 3}
    cfg = load_config(make_config(method=_block(method, tiny_llama_dir), train=train_cfg))
    run = train(cfg)

    metrics = json.loads((run / "metrics.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    for name in ("report.md", "config.yaml", "data_report.md", "confusion_validation.png", "confusion_test.png"):
        assert (run / name).is_file(), name
    assert not (run / "checkpoints").exists()
    assert manifest["method"] == method and manifest["method_config"]["name"] == method
    assert manifest["saved_bytes"] > 0 and (run / manifest["saved_dir"]).is_dir()
    for split in ("validation", "test"):
        assert {"accuracy", "macro_f1", "weighted_f1", "loss", "per_class", "confusion"} <= set(metrics[split])
        assert sum(map(sum, metrics[split]["confusion"])) == metrics[split]["size"] == 12
    steps = metrics["train"]["steps"]
    # setfit: 4 shots x 3 labels x 2 iterations x 2 pairs = 48 pairs, batches of 4
    assert steps == (12 if method == "setfit" else 0)
    assert (metrics["train"]["trainable_parameters"] > 0) == (method == "setfit")

    # Reloaded from the run dir, the model scores the test split exactly as at the end of training.
    classifier = TextClassifier.load(run)
    test = check_loop_data(cfg, TextClassification).test
    again = classifier.task.evaluate_examples(classifier.model, test, batch_size=5)
    assert again["confusion"] == metrics["test"]["confusion"]
    assert again["loss"] == pytest.approx(metrics["test"]["loss"], abs=1e-5)
    predictions = classifier.predict(["where is my parcel 77", "我要退款", "zzz"])
    assert all(p.label in metrics["labels"] and set(p.probabilities) == set(metrics["labels"]) for p in predictions)
    assert all(sum(p.probabilities.values()) == pytest.approx(1, abs=1e-5) for p in predictions)
    with pytest.raises(RunError, match="cannot be merged"):
        merge_run(run)


def test_descriptions_must_name_labels_of_the_data(make_config) -> None:
    block = {"name": "zeroshot-embed", "descriptions": {"refnud": "money back"}}
    with pytest.raises(ConfigError, match="names label\\(s\\) not in the data: refnud"):
        train(load_config(make_config(method=block)))


def test_predict_cli_and_compare_take_few_shot_methods(make_config, tmp_path: Path) -> None:
    runner = CliRunner()
    config = make_config(method={"name": "setfit", "shots": 3, "iterations": 1, "loss": "ranking"})
    args = ["compare", str(config), "--methods", "zeroshot-embed,setfit", "--set", "train.batch_size=4"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    root = tmp_path / "runs" / "tiny" / "compare"
    rows = {row["method"]: row for row in csv.DictReader((root / "compare.csv").open())}
    assert list(rows) == ["zeroshot-embed", "setfit"]
    assert float(rows["zeroshot-embed"]["trainable_parameters"]) == 0 < float(rows["setfit"]["trainable_parameters"])
    assert rows["setfit"]["lr"] == "2e-05"
    setfit = json.loads((root / "setfit" / "manifest.json").read_text())
    assert setfit["method_config"]["shots"] == 3  # the config's own block, not the defaults
    # ranking loss: same-label pairs only, 3 shots x 3 labels x 1 iteration = 9 pairs in batches of 4
    assert json.loads((root / "setfit" / "metrics.json").read_text())["train"]["steps"] == 3

    result = runner.invoke(app, ["predict", str(root / "zeroshot-embed"), "--text", "我的快递到哪了"])
    assert result.exit_code == 0 and any(label in result.output for label in ("refund", "delivery", "account"))
