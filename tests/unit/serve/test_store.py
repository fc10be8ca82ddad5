"""Keys and the feedback store on SQLite and, where TUNEFORGE_TEST_POSTGRES_URL is set, a real PostgreSQL."""

from __future__ import annotations

import csv
import datetime
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tuneforge.errors import DataError
from tuneforge.serve.export import export_feedback
from tuneforge.serve.feedback import FeedbackStore, LoggedPrediction
from tuneforge.serve.keys import KeyStore


def test_keys_are_stored_hashed_with_scopes(engine) -> None:
    store = KeyStore(engine)
    name = f"web-{uuid.uuid4().hex[:8]}"
    key = store.create(name, ["predict", "feedback"])
    info = store.verify(key)
    assert info is not None and info.name == name and info.scopes == {"predict", "feedback"}
    with engine.connect() as connection:
        stored = [str(value) for row in connection.execute(text("SELECT * FROM api_keys")) for value in row]
    assert not any(key in value or key.split("_", 2)[2] in value for value in stored)
    assert store.verify(key + "x") is None
    store.revoke(name)
    assert store.verify(key) is None
    assert any(k.name == name and k.revoked for k, _ in store.all_keys())


def test_feedback_export_is_redacted_and_latest_label_wins(engine, tmp_path: Path) -> None:
    store, model = FeedbackStore(engine, log_texts=True), f"m-{uuid.uuid4().hex[:8]}"
    ids = [f"{model}-{i}" for i in range(3)]
    texts = ["退款 please, mail li.wei@example.com", "where is my parcel", "密码忘记了"]
    store.log_predictions(
        model, "text-classification", [LoggedPrediction(i, t, {"label": "x"}) for i, t in zip(ids, texts, strict=True)]
    )
    store.record(ids[0], "k1", label="delivery")
    store.record(ids[0], "k1", label="refund")  # a correction of the correction
    store.record(ids[1], "k1", rating=2)  # no label: not training data
    store.record(ids[2], "k1", label="account")
    output = tmp_path / "out.csv"
    exported = export_feedback(engine, output, model=model, since=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    assert (exported.rows, exported.unit, exported.skipped) == (2, "labelled texts", {})
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert rows == [
        {"text": "退款 please, mail [EMAIL]", "label": "refund"},
        {"text": "密码忘记了", "label": "account"},
    ]
    with pytest.raises(DataError, match="no labelled texts"):
        tomorrow = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
        export_feedback(engine, output, model=model, since=tomorrow)


def test_texts_are_not_stored_unless_enabled(engine, tmp_path: Path) -> None:
    store, model = FeedbackStore(engine, log_texts=False), f"m-{uuid.uuid4().hex[:8]}"
    store.log_predictions(model, "text-classification", [LoggedPrediction(f"{model}-0", "secret text", {})])
    store.record(f"{model}-0", "k1", label="refund")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT text FROM predictions WHERE model = :m"), {"m": model}).scalar() is None
    with pytest.raises(DataError, match="no logged text"):
        export_feedback(engine, tmp_path / "out.csv", model=model)
