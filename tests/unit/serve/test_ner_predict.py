"""NER runs served: the predict endpoint returns entity spans as character offsets of the raw text."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

RECORDS = [
    ("张伟在北京下单了", [(0, 2, "PER"), (3, 5, "CITY")]),
    ("Anna Lee flew to Paris today.", [(0, 8, "PER"), (17, 22, "CITY")]),
    ("请把货寄到上海，收件人王芳", [(5, 7, "CITY"), (11, 13, "PER")]),
    ("Is John Smith in New York?", [(3, 13, "PER"), (17, 25, "CITY")]),
] * 5


def test_ner_predict_returns_spans(serve_client, tiny_model_dir: Path, tmp_path: Path) -> None:
    from tuneforge.config import load_config
    from tuneforge.tasks import train

    data = tmp_path / "ner.jsonl"
    lines = [
        {"text": t, "entities": [{"start": s, "end": e, "label": lab} for s, e, lab in ents]} for t, ents in RECORDS
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lines) + "\n", encoding="utf-8")
    config = {
        "task": "token-classification",
        "model": str(tiny_model_dir),
        "data": {"train": str(data), "labels": ["PER", "CITY"], "split": {"validation": 0.2, "test": 0.2}},
        "train": {"epochs": 1, "batch_size": 8, "lr": 3e-3, "max_length": 16, "seed": 3},
        "output_dir": str(tmp_path / "runs" / "ner"),
        "tracking": "none",
    }
    (tmp_path / "ner.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run = train(load_config(tmp_path / "ner.yaml", []))

    client, keys = serve_client({"ner": run}, precision="fp32")  # compared with the fp32 tagger below
    texts = ["张伟在北京下单了订单 A1029", "Hi, this is Emma Brown from Berlin."]
    response = client.post(
        "/v1/models/ner/predict", json={"texts": texts}, headers={"Authorization": f"Bearer {keys['predict']}"}
    )
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == 2
    for text, prediction in zip(texts, predictions, strict=True):
        for span in prediction["entities"]:
            assert text[span["start"] : span["end"]] == span["text"] and span["label"] in ("PER", "CITY")

    from tuneforge.tasks.token_classification.estimator import TokenClassifier

    assert [p["entities"] for p in predictions] == TokenClassifier.load(run).predict(texts)
