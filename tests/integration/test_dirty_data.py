"""Issue 3, bar 4: a 10,000-row CSV with 1,000 malformed rows of mixed kinds, through the real CLI."""

import csv
import importlib.util
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from tuneforge.cli import app

BENCH = Path(__file__).resolve().parents[2] / "bench" / "make_dirty_csv.py"


def _write_dirty_csv(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location("make_dirty_csv", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_dirty_csv(path, rows=10_000, bad=1_000, seed=0)


def test_every_bad_row_is_reported_then_skipped(make_config, tmp_path: Path) -> None:
    source = tmp_path / "dirty.csv"
    expected = _write_dirty_csv(source)
    assert len(expected["bad_kinds"]) == 5
    data = {"train": str(source), "labels": expected["labels"], "split": {"validation": 0.1, "test": 0.1}}
    runner = CliRunner()

    result = runner.invoke(app, ["data", "check", str(make_config(data=data))], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    reported = {int(n) for n in re.findall(rf"{re.escape(str(source))}:(\d+)", result.output)}
    assert reported == set(expected["bad_lines"])

    config = make_config(data={**data, "on_error": "skip"}, train={"epochs": 1, "batch_size": 64, "max_length": 48})
    result = runner.invoke(app, ["train", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "tiny"
    with (run / "rejected_rows.csv").open(encoding="utf-8", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert sorted(int(row["line"]) for row in rejected) == expected["bad_lines"]
    report = json.loads((run / "data_report.json").read_text(encoding="utf-8"))
    assert report["dropped"]["rejected"] == 1_000
    assert sum(split["rows"] for split in report["splits"].values()) == 9_000
