"""`tuneforge compare` and `tuneforge export --merge` through the real CLI on the tiny model."""

import csv
import json
from pathlib import Path

from transformers import AutoModelForSequenceClassification
from typer.testing import CliRunner

from tuneforge.cli import app

runner = CliRunner()


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_compare_is_resumable_and_runs_export(make_config, tmp_path: Path) -> None:
    config = make_config(train={"epochs": 1, "batch_size": 8, "lr": 1e-3, "max_length": 32, "seed": 3})
    result = _invoke("compare", config, "--methods", "full,lora,prefix", "--lr", "lora=2e-3")
    assert result.exit_code == 0, result.output
    root = tmp_path / "runs" / "tiny" / "compare"
    rows = {row["method"]: row for row in csv.DictReader((root / "compare.csv").open())}
    assert list(rows) == ["full", "lora", "prefix"]
    assert (rows["full"]["lr"], rows["lora"]["lr"], rows["prefix"]["lr"]) == ("0.001", "0.002", "0.01")
    for row in rows.values():
        assert 0 <= float(row["accuracy"]) <= 1 and float(row["peak_rss_mb"]) > 50
        assert float(row["train_seconds"]) > 0 and float(row["tokens_per_second"]) > 0
    assert float(rows["lora"]["trainable_percent"]) < 5 < float(rows["full"]["trainable_percent"])
    assert float(rows["lora"]["saved_mb"]) < float(rows["full"]["saved_mb"])
    assert "| lora |" in (root / "compare.md").read_text() and (root / "compare.png").stat().st_size > 0

    # Resumable: finished methods are kept, only the new one trains.
    kept = (root / "lora" / "manifest.json").stat().st_mtime_ns
    result = _invoke("compare", config, "--methods", "full,lora,bitfit")
    assert result.exit_code == 0, result.output
    assert "lora: already trained" in result.output
    assert (root / "lora" / "manifest.json").stat().st_mtime_ns == kept
    assert [r["method"] for r in csv.DictReader((root / "compare.csv").open())] == ["full", "lora", "bitfit"]

    # export --merge: a plain model dir for LoRA; a clear refusal for prefix tuning.
    result = _invoke("export", root / "lora", "--merge", "--output", tmp_path / "merged")
    assert result.exit_code == 0, result.output
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "merged")
    labels = json.loads((root / "lora" / "manifest.json").read_text())["labels"]
    assert [model.config.id2label[i] for i in range(len(labels))] == labels
    result = _invoke("export", root / "prefix", "--merge")
    assert result.exit_code == 2 and "cannot be merged" in result.output and "Traceback" not in result.output


def test_compare_rejects_unknown_methods(make_config) -> None:
    result = _invoke("compare", make_config(), "--methods", "full,lorra")
    assert result.exit_code == 2 and "unknown method(s) lorra" in result.output
