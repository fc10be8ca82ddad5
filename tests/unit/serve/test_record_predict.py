"""Tabular and recommendation runs served: JSON records in, the same outputs as their library predictors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tuneforge.tasks import load

ROOT = Path(__file__).resolve().parents[3]


def _train(config: dict, path: Path) -> Path:
    from tuneforge.config import load_config
    from tuneforge.tasks import train

    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return train(load_config(path, []))


@pytest.fixture(scope="module")
def record_runs(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("record-runs")
    credit = {
        "task": "tabular-classification",
        "model": str(tiny_model_dir),
        "data": {"train": str(ROOT / "examples/credit/applications.csv"), "label_column": "label"},
        "tabular": {"positive_label": "bad", "folds": 2, "models": ["logreg", "hgb"], "importance_repeats": 1},
        "output_dir": str(folder / "credit"),
        "tracking": "none",
    }
    shows = ROOT / "examples/recsys"
    recsys = {
        "task": "recommendation",
        "model": str(tiny_model_dir),
        "data": {"train": str(shows / "interactions.csv")},
        "recommend": {
            "items": str(shows / "items.csv"),
            "rating_column": "rating",
            "k": 5,
            "mf": {"factors": [8], "regularization": [0.1], "iterations": 2},
            "tower": {"dim": 16, "history": 5},
        },
        "train": {"epochs": 1, "batch_size": 128, "lr": 1e-2, "max_length": 32, "seed": 1},
        "output_dir": str(folder / "shows"),
        "tracking": "none",
    }
    return {"credit": _train(credit, folder / "credit.yaml"), "shows": _train(recsys, folder / "shows.yaml")}


def test_records_are_scored_like_the_library_predictors(serve_client, record_runs, classifier_run) -> None:

    client, keys = serve_client({**record_runs, "clf": classifier_run})
    auth = {"Authorization": f"Bearer {keys['predict']}"}
    rows = [
        {
            "age": 35,
            "monthly_income": 5200,
            "loan_amount": 8000,
            "duration_months": 24,
            "purpose": "car",
            "employment": "在职",
            "city": "Berlin",
            "guarantor": "no",
        },
    ]
    response = client.post("/v1/models/credit/predict", json={"records": rows}, headers=auth)
    assert response.status_code == 200, response.text
    served = response.json()["predictions"][0]
    expected = load(record_runs["credit"]).predict(rows)[0]
    assert served["probability"] == pytest.approx(expected["probability"]) and served["id"]

    queries = [{"user": "u001", "k": 3}, {"text": "做饺子的纪录片", "k": 3}]
    response = client.post("/v1/models/shows/predict", json={"records": queries}, headers=auth)
    assert response.status_code == 200, response.text
    got = [[item["item"] for item in p["items"]] for p in response.json()["predictions"]]
    assert got == [[item["item"] for item in r["items"]] for r in load(record_runs["shows"]).predict(queries)]

    bad = client.post("/v1/models/credit/predict", json={"records": [{**rows[0], "age": "old"}]}, headers=auth)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "records"]
    assert "age" in bad.json()["detail"][0]["msg"]
    texts = client.post("/v1/models/credit/predict", json={"texts": ["hello"]}, headers=auth)
    assert texts.status_code == 422 and "takes records" in texts.text
    records = client.post("/v1/models/clf/predict", json={"records": [{"text": "hi"}]}, headers=auth)
    assert records.status_code == 422 and "takes texts" in records.text
    both = client.post("/v1/models/clf/predict", json={"texts": ["a"], "records": [{}]}, headers=auth)
    assert both.status_code == 422
