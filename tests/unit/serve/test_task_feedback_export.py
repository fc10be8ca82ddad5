"""Feedback export of NER and tabular runs served: corrected spans and labels come back as files their task reads."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from pathlib import Path

import yaml

from tuneforge.serve.db import connect
from tuneforge.serve.export import export_feedback

ROOT = Path(__file__).resolve().parents[3]
NER_RECORDS = [
    ("张伟在北京下单了", [(0, 2, "PER"), (3, 5, "CITY")]),
    ("Anna Lee flew to Paris today.", [(0, 8, "PER"), (17, 22, "CITY")]),
] * 6


def _train(config: dict, path: Path) -> Path:
    from tuneforge.config import load_config
    from tuneforge.tasks import train

    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return train(load_config(path, []))


def _predict(client, keys, model: str, body: dict) -> list[str]:
    response = client.post(
        f"/v1/models/{model}/predict", json=body, headers={"Authorization": f"Bearer {keys['all']}"}
    )
    assert response.status_code == 200, response.text
    ids = [p["id"] for p in response.json()["predictions"]]
    store, deadline = client.app.state.serving.feedback, time.monotonic() + 10
    while not all(store.known_prediction(i) for i in ids):  # logged by a background thread
        assert time.monotonic() < deadline, "predictions were never logged"
        time.sleep(0.02)
    return ids


def _feedback(client, keys, body: dict) -> int:
    return client.post("/v1/feedback", json=body, headers={"Authorization": f"Bearer {keys['feedback']}"}).status_code


def test_corrected_entities_are_exported_as_span_jsonl(serve_client, tiny_model_dir: Path, tmp_path: Path) -> None:
    from tuneforge.tasks.token_classification.spans import read_span_jsonl

    data = tmp_path / "ner.jsonl"
    lines = [
        {"text": t, "entities": [{"start": s, "end": e, "label": lab} for s, e, lab in ents]}
        for t, ents in NER_RECORDS
    ]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    config = {
        "task": "token-classification",
        "model": str(tiny_model_dir),
        "data": {"train": str(data), "labels": ["PER", "CITY"], "split": {"validation": 0.2, "test": 0.2}},
        "train": {"epochs": 1, "batch_size": 8, "lr": 3e-3, "max_length": 16, "seed": 3},
        "output_dir": str(tmp_path / "runs" / "ner"),
        "tracking": "none",
    }
    client, keys = serve_client({"ner": _train(config, tmp_path / "ner.yaml")}, log_texts=True)
    texts = ["王芳在上海", "Emma Brown lives in Berlin.", "没有实体"]
    ids = _predict(client, keys, "ner", {"texts": texts})

    assert (
        _feedback(client, keys, {"prediction_id": ids[0], "entities": [{"start": 3, "end": 9, "label": "CITY"}]})
        == 422
    )
    assert (
        _feedback(client, keys, {"prediction_id": ids[0], "entities": [{"start": 2, "end": 2, "label": "PER"}]}) == 422
    )
    spans = [{"start": 20, "end": 26, "label": "CITY"}, {"start": 0, "end": 10, "label": "PER"}]
    assert (
        _feedback(client, keys, {"prediction_id": ids[0], "entities": [{"start": 0, "end": 2, "label": "CITY"}]})
        == 201
    )
    assert (
        _feedback(
            client,
            keys,
            {
                "prediction_id": ids[0],
                "entities": [{"start": 0, "end": 2, "label": "PER"}, {"start": 3, "end": 5, "label": "CITY"}],
            },
        )
        == 201
    )
    assert _feedback(client, keys, {"prediction_id": ids[1], "entities": spans}) == 201
    assert _feedback(client, keys, {"prediction_id": ids[2], "entities": []}) == 201  # a text with no entities

    output = tmp_path / "spans.jsonl"
    exported = export_feedback(connect(f"sqlite:///{tmp_path / 'serve.db'}"), output, model="ner")
    assert (exported.rows, exported.skipped) == (3, {})
    tagged = read_span_jsonl(output, text_key="text", span_key="entities", labels=["PER", "CITY"])
    assert tagged.errors == [] and [s.text for s in tagged.sentences] == texts
    first = json.loads(output.read_text(encoding="utf-8").splitlines()[0])
    assert first["entities"] == [{"start": 0, "end": 2, "label": "PER"}, {"start": 3, "end": 5, "label": "CITY"}]


def test_corrected_labels_of_records_are_exported_as_training_rows(
    serve_client, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from tuneforge.config import load_config
    from tuneforge.tasks import TASKS

    applications = ROOT / "examples/credit/applications.csv"
    config = {
        "task": "tabular-classification",
        "model": str(tiny_model_dir),
        "data": {"train": str(applications), "label_column": "label"},
        "tabular": {"positive_label": "bad", "folds": 2, "models": ["logreg"], "importance_repeats": 1},
        "output_dir": str(tmp_path / "runs" / "credit"),
        "tracking": "none",
    }
    client, keys = serve_client({"credit": _train(config, tmp_path / "credit.yaml")}, log_texts=True)
    with applications.open(encoding="utf-8") as file:
        rows = [
            {k: int(v) if v.isdigit() else v for k, v in row.items() if k != "label"} for row in csv.DictReader(file)
        ]
    rows = rows[:40]
    ids = _predict(client, keys, "credit", {"records": rows})
    for i, prediction_id in enumerate(ids):
        assert _feedback(client, keys, {"prediction_id": prediction_id, "label": "bad" if i % 2 else "good"}) == 201

    output = tmp_path / "corrected.jsonl"
    exported = export_feedback(connect(f"sqlite:///{tmp_path / 'serve.db'}"), output, model="credit")
    assert (exported.rows, exported.unit, exported.skipped) == (40, "labelled records", {})
    written = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert written[1] == {**rows[1], "label": "bad"}

    retrain = {**config, "data": {"train": str(output), "label_column": "label"}}
    (tmp_path / "retrain.yaml").write_text(yaml.safe_dump(retrain, allow_unicode=True), encoding="utf-8")
    report = TASKS["tabular-classification"].check_data(load_config(tmp_path / "retrain.yaml", []))
    assert report is not None


def test_databases_from_before_entities_gain_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY, prediction_id VARCHAR(64), label VARCHAR(200), "
            "rating INTEGER, answer TEXT, key_id VARCHAR(16), created_at DATETIME)"
        )
        old.execute("INSERT INTO feedback (prediction_id, label, key_id) VALUES ('p-0', 'refund', 'k1')")
    connect(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as upgraded:
        assert upgraded.execute("SELECT label, entities FROM feedback").fetchall() == [("refund", None)]
