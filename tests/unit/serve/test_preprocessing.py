"""Training's text cleaning applied at prediction and serving: a full-width or PII-bearing text predicts exactly as
its training-time cleaned form, through `TextClassifier.predict` and the HTTP API, and the log stores that form."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.unit.serve.conftest import write_labelled_csv
from tuneforge.data.normalize import normalize_text
from tuneforge.data.preprocess import TextPreprocessing

FULL_WIDTH = "ｗｈｅｒｅ　ｉｓ　ｍｙ　ｐａｒｃｅｌ　１０５？<br>"
PHONE = "where is my parcel, call 138-1234-5678"
CLEANED = {FULL_WIDTH: "where is my parcel 105?", PHONE: "where is my parcel, call [PHONE]"}


@pytest.fixture(scope="module")
def redacting_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny serving run trained with data.clean.redact_pii on (normalisation is on by default)."""
    from tuneforge.config import load_config
    from tuneforge.tasks import train

    folder = tmp_path_factory.mktemp("preprocessing-run")
    cfg = {
        "task": "text-classification",
        "model": str(tiny_model_dir),
        "data": {
            "train": str(write_labelled_csv(folder / "train.csv")),
            "split": {"validation": 0.2, "test": 0.2, "seed": 1},
            "clean": {"redact_pii": True},
        },
        "train": {"epochs": 1, "batch_size": 8, "lr": 1e-3, "max_length": 32, "seed": 3},
        "output_dir": str(folder / "clf"),
        "tracking": "none",
    }
    (folder / "clf.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return train(load_config(folder / "clf.yaml", []))


def test_preprocessing_is_what_training_does_to_a_text(tmp_path: Path) -> None:
    from tuneforge.config import CleanConfig, DataConfig, SplitConfig
    from tuneforge.data import prepare_data

    source = tmp_path / "raw.csv"
    source.write_text("text,label\n" + "".join(f'"{t}",delivery\n' for t in CLEANED), encoding="utf-8")
    clean = CleanConfig(redact_pii=True, dedup=False)
    cfg = DataConfig(train=source, split=SplitConfig(validation=0, test=0), clean=clean)
    trained = [e.text for e in prepare_data(cfg, max_length=32, max_tokens=512).train]
    assert trained == [TextPreprocessing.of(clean)(t) for t in CLEANED] == list(CLEANED.values())


def test_predict_cleans_texts_as_training_did(redacting_run: Path) -> None:
    from tuneforge.tasks.text_classification.estimator import TextClassifier

    clf = TextClassifier.load(redacting_run)
    assert clf.preprocessing == TextPreprocessing(normalize=True, redact_pii=True)
    assert clf.preprocess(list(CLEANED)) == list(CLEANED.values())
    assert clf.predict(list(CLEANED)) == clf.predict(list(CLEANED.values()))  # same labels and probabilities
    assert (clf.predict_proba(list(CLEANED)) == clf.predict_proba(list(CLEANED.values()))).all()


def test_runs_without_redaction_leave_pii_to_the_model(classifier_run: Path) -> None:
    from tuneforge.tasks.text_classification.estimator import TextClassifier

    clf = TextClassifier.load(classifier_run)  # data.clean defaults: normalise, no redaction
    assert clf.preprocess([FULL_WIDTH, PHONE]) == [normalize_text(FULL_WIDTH), PHONE]


def test_server_predicts_and_logs_what_the_model_saw(serve_client, redacting_run: Path, monkeypatch) -> None:
    from tuneforge.serve.predlog import PredictionLog
    from tuneforge.tasks.text_classification.estimator import TextClassifier

    logged: list[str] = []
    add = PredictionLog.add

    def capture(self, model, task, predictions) -> None:  # type: ignore[no-untyped-def]
        logged.extend(p.text for p in predictions)
        add(self, model, task, predictions)

    monkeypatch.setattr(PredictionLog, "add", capture)
    client, keys = serve_client({"demo": redacting_run}, log_texts=True, precision="fp32")

    def served(texts: list[str]) -> list[dict[str, object]]:
        response = client.post(
            "/v1/models/demo/predict", json={"texts": texts}, headers={"Authorization": f"Bearer {keys['predict']}"}
        )
        assert response.status_code == 200, response.text
        return [{k: p[k] for k in ("label", "score", "probabilities")} for p in response.json()["predictions"]]

    raw, cleaned = served(list(CLEANED)), served(list(CLEANED.values()))
    assert raw == cleaned
    direct = TextClassifier.load(redacting_run).predict(list(CLEANED))
    assert [p["label"] for p in raw] == [p.label for p in direct]
    assert [p["score"] for p in raw] == pytest.approx([p.score for p in direct], abs=1e-6)
    assert logged == list(CLEANED.values()) * 2


def test_ner_normalises_per_word_and_keeps_raw_offsets(tiny_model_dir: Path, tmp_path: Path) -> None:
    """NER's preprocessing is TokenClassification.encode's NFKC per word, in training and prediction alike: a
    full-width text tags as its half-width form, with spans on the raw text."""
    import json
    import unicodedata

    from tuneforge.config import load_config
    from tuneforge.tasks import train
    from tuneforge.tasks.token_classification.estimator import TokenClassifier

    records = [{"text": "Anna Lee flew to Paris", "entities": [{"start": 0, "end": 8, "label": "PER"}]}] * 10
    (tmp_path / "ner.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    config = {
        "task": "token-classification",
        "model": str(tiny_model_dir),
        "data": {"train": str(tmp_path / "ner.jsonl"), "labels": ["PER"], "split": {"validation": 0.2, "test": 0}},
        "train": {"epochs": 1, "batch_size": 8, "lr": 3e-3, "max_length": 16, "seed": 3},
        "output_dir": str(tmp_path / "ner"),
        "tracking": "none",
    }
    (tmp_path / "ner.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    tagger = TokenClassifier.load(train(load_config(tmp_path / "ner.yaml", [])))
    raw = "Ａｎｎａ Ｌｅｅ ｆｌｅｗ ｔｏ Ｐａｒｉｓ"
    full, half = tagger.predict([raw, unicodedata.normalize("NFKC", raw)])
    assert [{**s, "text": None} for s in full] == [{**s, "text": None} for s in half]
    assert all(raw[s["start"] : s["end"]] == s["text"] for s in full)
