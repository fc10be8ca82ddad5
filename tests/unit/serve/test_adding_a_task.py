"""A new task plugs in through the steps of docs/architecture.md alone: a task folder (here, this file), a row in
TASKS, its name in the config literal, and a contract row; then train, load, predict and serve work on it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import tuneforge
from tuneforge.config import Config, root
from tuneforge.data.records import read_rows, write_records
from tuneforge.rundir import finalize, read_manifest, run_config, staging_dir, write_inputs, write_json
from tuneforge.tasks import TASKS, TaskSpec

# --- the task folder: a majority-label "model", trained and loaded like any run ------------------------------


class MajorityVote:
    """Predicts the most frequent training label for every text (what a real task's estimator would be)."""

    def __init__(self, run_dir: Path) -> None:
        manifest = read_manifest(run_dir, "majority-vote")
        self.run_dir, self.label = run_dir, manifest["label"]

    def preprocess(self, texts: list[str]) -> list[str]:
        return [" ".join(text.split()) for text in texts]

    def predict(self, texts: list[str]) -> list[str]:
        return [self.label for _ in self.preprocess(texts)]

    def predict_json(self, texts: list[str]) -> list[dict[str, Any]]:
        return [{"label": label} for label in self.predict(texts)]

    def show(self, texts: list[str]) -> None:
        print(*self.predict(texts))

    def predict_file(self, source: Path, output: Path, *, text_column: str | None = None) -> None:
        columns, rows, texts = read_rows(source, text_column or run_config(self.run_dir).data.text_column)
        labelled = [{**row, "label": label} for row, label in zip(rows, self.predict(texts), strict=True)]
        write_records(output, [*columns, "label"], labelled)

    def evaluate_file(self, source: Path) -> dict[str, Any]:
        cfg = run_config(self.run_dir)
        _, rows, texts = read_rows(source, cfg.data.text_column)
        hits = [row[cfg.data.label_column] == label for row, label in zip(rows, self.predict(texts), strict=True)]
        return {"accuracy": sum(hits) / len(hits)}


def _labels(cfg: Config) -> Counter[str]:
    _, rows, _ = read_rows(cfg.data.train, cfg.data.text_column)
    return Counter(str(row[cfg.data.label_column]) for row in rows)


def _check_data(cfg: Config) -> dict[str, Any]:
    return dict(_labels(cfg))


def _train(cfg: Config, resume: bool) -> Path:
    run_dir = staging_dir(cfg.output_dir, resume=resume)
    counts = _labels(cfg)
    write_inputs(run_dir, cfg, dict(counts), f"{sum(counts.values())} rows", [])
    write_json(run_dir / "manifest.json", {"task": cfg.task, "label": counts.most_common(1)[0][0]})
    finalize(run_dir, cfg.output_dir)
    return cfg.output_dir


MAJORITY_VOTE = TaskSpec(
    name="majority-vote",
    inputs="texts",
    main_metric="accuracy",
    methods=("full",),
    check_data=_check_data,
    train=_train,
    load=MajorityVote,
)

# --- the table entry and the config literal -----------------------------------------------------------------


@pytest.fixture
def with_toy_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TASKS, "majority-vote", MAJORITY_VOTE)
    monkeypatch.setattr(root, "TASK_NAMES", (*root.TASK_NAMES, "majority-vote"))


def test_a_toy_task_trains_loads_predicts_and_serves(with_toy_task: None, tmp_path: Path, serve_client) -> None:
    data = tmp_path / "train.csv"
    data.write_text("text,label\nwhere is it,delivery\nrefund please,refund\nmy parcel?,delivery\n", encoding="utf-8")
    config = tmp_path / "toy.yaml"
    config.write_text(f"task: majority-vote\ndata: {{train: {data}}}\noutput_dir: {tmp_path / 'run'}\n")
    cfg = tuneforge.load_config(config)
    assert tuneforge.tasks.check_data(cfg) == {"delivery": 2, "refund": 1}
    run = tuneforge.train(cfg)
    assert (run / "config.yaml").is_file() and (run / "data_report.md").is_file()

    estimator = tuneforge.load(run)
    assert estimator.predict(["anything"]) == ["delivery"]
    estimator.predict_file(data, tmp_path / "out.jsonl")
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["label"] for row in written] == ["delivery"] * 3
    assert estimator.evaluate_file(data) == {"accuracy": pytest.approx(2 / 3)}

    client, keys = serve_client({"toy": run})
    response = client.post(
        "/v1/models/toy/predict", json={"texts": ["a  b"]}, headers={"Authorization": f"Bearer {keys['predict']}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["predictions"][0]["label"] == "delivery"


def test_a_method_the_row_does_not_list_is_refused(with_toy_task: None, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("text,label\na,b\n", encoding="utf-8")
    config = tmp_path / "toy.yaml"
    config.write_text(f"task: majority-vote\nmethod: lora\ndata: {{train: {tmp_path / 't.csv'}}}\n")
    with pytest.raises(tuneforge.errors.ConfigError, match="method lora does not fit task majority-vote"):
        tuneforge.load_config(config)
