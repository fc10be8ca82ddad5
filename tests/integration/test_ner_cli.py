"""NER through the real CLI on a tiny model: train → predict → evaluate, and malformed files as messages."""

import json
import random
from pathlib import Path

import pytest
import yaml
from transformers import AutoModelForTokenClassification
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.config import load_config
from tuneforge.run import check_loop_data
from tuneforge.tasks.token_classification.estimator import TokenClassifier
from tuneforge.tasks.token_classification.task import TokenClassification

runner = CliRunner()

PEOPLE, CITIES = ["张伟", "王芳", "John Smith", "Anna Lee"], ["北京", "上海", "Paris", "New York"]
TEMPLATES = [
    "{PER}在{CITY}下单了",
    "{PER} flew to {CITY} today.",
    "请把货寄到{CITY}，收件人{PER}",
    "Is {PER} in {CITY}?",
]


def _record(rng: random.Random) -> dict:
    text, entities = "", []
    for piece in rng.choice(TEMPLATES).replace("}", "}|").replace("{", "|{").split("|"):
        if piece in ("{PER}", "{CITY}"):
            value = rng.choice(PEOPLE if piece == "{PER}" else CITIES)
            entities.append({"start": len(text), "end": len(text) + len(value), "label": piece[1:-1]})
            piece = value
        text += piece
    return {"text": text, "entities": entities}


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def ner_config(tmp_path: Path, tiny_model_dir: Path) -> Path:
    rng = random.Random(0)
    records = [_record(rng) for _ in range(60)]
    long = {"text": "", "entities": []}  # past max_length: trained on in windows
    for record in records[:12]:
        shift = len(long["text"])
        long["entities"] += [{**e, "start": e["start"] + shift, "end": e["end"] + shift} for e in record["entities"]]
        long["text"] += record["text"] + " "
    data = tmp_path / "ner.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [*records, long]) + "\n", encoding="utf-8")
    config = {
        "task": "token-classification",
        "model": str(tiny_model_dir),
        "data": {"train": str(data), "labels": ["PER", "CITY"], "split": {"validation": 0.2, "test": 0.2}},
        "train": {"epochs": 2, "batch_size": 8, "lr": 3e-3, "max_length": 16, "seed": 3},
        "output_dir": str(tmp_path / "runs" / "ner"),
        "tracking": "none",
    }
    path = tmp_path / "ner.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def test_train_predict_evaluate(ner_config: Path, tmp_path: Path) -> None:
    result = _invoke("train", ner_config)
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "ner"
    for name in ("metrics.json", "report.md", "manifest.json", "config.yaml", "data_report.md", "learning_curve.png"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 <= metrics["test"]["entity_f1"] <= 1 and metrics["labels"] == ["PER", "CITY"]
    assert {"per_type", "per_tag", "errors", "token_accuracy"} <= set(metrics["test"])
    assert all("entity_f1" in record for record in metrics["history"])
    report = (run / "report.md").read_text()
    assert (
        "## Entities per type (test)" in report and "## Token-level report (test" in report and "## Errors" in report
    )
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["train"]["early_stopping"]["metric"] == "entity_f1"
    data_report = json.loads((run / "data_report.json").read_text())
    assert data_report["splits"]["train"]["class_counts"]["PER"] > 10

    model = AutoModelForTokenClassification.from_pretrained(run / "model")
    assert list(model.config.id2label.values()) == ["O", "B-PER", "I-PER", "B-CITY", "I-CITY"]
    texts = ["张伟在北京下单了订单 A1029", "John Smith flew to Paris, then New York!" * 10]
    spans = TokenClassifier.load(run).predict(texts)
    assert len(spans) == 2
    for text, found in zip(texts, spans, strict=True):
        assert all(text[s["start"] : s["end"]] == s["text"] and s["label"] in ("PER", "CITY") for s in found)

    result = _invoke("predict", run, "--text", "张伟在北京下单了订单 A1029")
    assert result.exit_code == 0 and "start-end" in result.output

    source = tmp_path / "new.csv"
    source.write_text("id,text\nm1,张伟在北京下单了\nm2,Is Anna Lee in Paris?\n", encoding="utf-8")
    tagged = tmp_path / "tagged.jsonl"
    assert _invoke("predict", run, "--input", source, "--output", tagged).exit_code == 0
    rows = [json.loads(line) for line in tagged.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["m1", "m2"] and all(isinstance(r["entities"], list) for r in rows)

    conll = tmp_path / "test.conll"
    conll.write_text(
        "-DOCSTART- O\n\nAnna B-PER\nLee I-PER\nin O\nParis B-CITY\n\n张 B-PER\n伟 I-PER\n", encoding="utf-8"
    )
    result = _invoke("evaluate", run, "--data", conll)
    assert result.exit_code == 0, result.output
    evaluation = json.loads((run / "evaluations" / "test" / "metrics.json").read_text())
    assert evaluation["test"]["size"] == 2 and evaluation["test"]["entities"] == 3

    bad = tmp_path / "bad.conll"
    bad.write_text("Anna B-PER\nParis B-TOWN\n", encoding="utf-8")
    result = _invoke("evaluate", run, "--data", bad)
    assert result.exit_code == 2 and f"{bad}:2" in result.output and "Traceback" not in result.output


def test_malformed_files_give_file_and_line(ner_config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"text": "Anna in Paris", "entities": [[0, 4, "PER"]]}\n'
        '{"text": "Anna", "entities": [[0, 3, "PER"]]}\n'
        '{"text": "oops"\n',
        encoding="utf-8",
    )
    result = _invoke("data", "check", ner_config, "--set", f"data.train={bad}")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{bad}:2" in result.output and f"{bad}:3" in result.output
    conll = tmp_path / "bad.conll"
    conll.write_text("Anna I-PER\nsaid O\n\nhello\n", encoding="utf-8")
    result = _invoke(
        "data",
        "check",
        ner_config,
        "--set",
        f"data.train={conll}",
        "--set",
        "data.ner.stray_inside=error",
        "--set",
        "data.ner.scheme=iob2",
    )
    assert result.exit_code == 1 and f"{conll}:1" in result.output and f"{conll}:4" in result.output


def test_ner_config_errors(ner_config: Path) -> None:
    for setting, message in (("data.clean.redact_pii=true", "redact_pii"), ("data.ner.tag_column=0", "tag_column")):
        result = _invoke("train", ner_config, "--set", setting)
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "block",
    [{"name": "lora", "r": 4}, {"name": "bitfit"}, {"name": "prompt", "num_virtual_tokens": 4}, {"name": "adapter"}],
    ids=lambda block: block["name"],
)
def test_methods_train_ner(block: dict, ner_config: Path, tmp_path: Path) -> None:
    """Parameter-efficient methods work for NER too: adapter-only run dir, same scores and spans after reload."""
    result = _invoke("train", ner_config, "--set", f"method={json.dumps(block)}", "--set", "train.epochs=1")
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "ner"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["saved_dir"] == "adapter" and not (run / "model").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train"]["trainable_parameters"] < 0.1 * metrics["train"]["total_parameters"]

    tagger = TokenClassifier.load(run)
    test = check_loop_data(load_config(run / "config.yaml"), TokenClassification).test
    again = tagger.task.evaluate_examples(tagger.model, test, batch_size=16)
    assert again["entity_f1"] == metrics["test"]["entity_f1"] and again["per_tag"] == metrics["test"]["per_tag"]
    if block["name"] == "lora":
        texts = ["张伟在北京下单了订单 A1029", "Is Anna Lee in Paris?"]
        assert _invoke("export", run, "--merge").exit_code == 0
        plain = TokenClassifier(tagger.task, AutoModelForTokenClassification.from_pretrained(run / "merged").eval())
        assert plain.predict(texts) == tagger.predict(texts)
