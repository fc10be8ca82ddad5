"""`tuneforge models ...` through typer's runner: add (first becomes champion), list, promote (--force past a
rejected gate), rollback, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tuneforge.registry import ModelVersions
from tuneforge.registry.cli import models_app


def _run(folder: Path, accuracy: float) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"task": "text-classification"}))
    (folder / "config.yaml").write_text("task: text-classification\ndata:\n  train: nowhere.csv\n")
    (folder / "metrics.json").write_text(json.dumps({"test": {"n": 10, "accuracy": accuracy, "macro_f1": 0.5}}))
    return folder


def test_add_list_promote_rollback(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "models"

    def models(*args: str) -> object:
        return runner.invoke(models_app, [*args, "--registry", str(root)], env={"COLUMNS": "200"})

    first = models("add", "intent", str(_run(tmp_path / "a", 0.81)))
    assert first.exit_code == 0, first.output
    assert "v1 is champion (first version)" in first.output
    assert (tmp_path / "a" / "manifest.json").is_file()  # copied, not moved
    assert models("add", "intent", str(_run(tmp_path / "b", 0.9))).exit_code == 0

    listed = models("list", "intent")
    assert listed.exit_code == 0, listed.output
    assert "accuracy 0.81" in listed.output and "accuracy 0.9" in listed.output and "manual" in listed.output
    v2_row = next(line for line in listed.output.splitlines() if " v2 " in line)
    assert "v1" in v2_row  # its parent

    intent = ModelVersions(root, "intent")
    lineage_file = intent.version("v2").path / "lineage.json"
    lineage = json.loads(lineage_file.read_text())
    lineage["gate"] = {"decision": "rejected", "reason": "accuracy fell on slice zh"}
    lineage_file.write_text(json.dumps(lineage))
    refused = models("promote", "intent", "v2")
    assert refused.exit_code == 2 and "rejected by its gate: accuracy fell on slice zh" in refused.output
    assert "Traceback" not in refused.output
    forced = models("promote", "intent", "v2", "--force")
    assert forced.exit_code == 0, forced.output
    assert intent.champion().tag == "v2"  # type: ignore[union-attr]
    assert "rejected" in models("list", "intent").output

    back = models("rollback", "intent")
    assert back.exit_code == 0 and "v1 is champion" in back.output
    again = models("rollback", "intent")
    assert again.exit_code == 2 and "no previous champion" in again.output

    missing = models("promote", "intent", "v7")
    assert missing.exit_code == 2 and "its versions: v1, v2" in missing.output
    assert models("list", "other").exit_code == 2
