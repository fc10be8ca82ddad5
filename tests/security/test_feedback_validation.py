"""Feedback cannot be spam or poison for the next training set: only for a logged prediction, only with the model's
labels and strict types, within a per-key rate limit that triggers, and every row records the key that sent it."""

import sqlite3
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from tests.unit.serve.conftest import classifier_run, serve_client  # noqa: F401  (fixtures)
from tuneforge.serve.db import Feedback, connect
from tuneforge.serve.limits import RateLimiter


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _predict(client, key: str) -> str:
    response = client.post("/v1/models/demo/predict", json={"texts": ["where is my parcel"]}, headers=_auth(key))
    assert response.status_code == 200, response.text
    return response.json()["predictions"][0]["id"]


def test_feedback_is_checked_against_the_prediction_and_the_labels(serve_client, classifier_run: Path) -> None:  # noqa: F811
    client, keys = serve_client({"demo": classifier_run})
    prediction_id = _predict(client, keys["predict"])  # feedback right away: the log may not be written yet
    send = lambda body: client.post("/v1/feedback", json=body, headers=_auth(keys["feedback"]))  # noqa: E731

    assert send({"prediction_id": prediction_id, "label": "refund"}).status_code == 201
    assert send({"prediction_id": "0" * 32 + "-0", "label": "refund"}).status_code == 404
    formula = send({"prediction_id": prediction_id, "label": '=HYPERLINK("http://x","refund")'})
    assert formula.status_code == 422 and formula.json()["detail"][0]["loc"] == ["body", "label"]
    assert "delivery, refund" in formula.json()["detail"][0]["msg"]
    for field, value in (("rating", True), ("rating", "5"), ("rating", 4.0), ("label", 1), ("label", ["refund"])):
        response = send({"prediction_id": prediction_id, field: value})
        assert response.status_code == 422, (field, value, response.text)
    assert send({"prediction_id": 7, "rating": 5}).status_code == 422
    assert send({"prediction_id": prediction_id, "rating": 5}).status_code == 201

    key_id = keys["feedback"].split("_")[1]  # tf_<id>_<secret>
    with Session(client.app.state.serving.feedback.engine) as session:
        rows = session.execute(select(Feedback.prediction_id, Feedback.key_id, Feedback.label)).all()
    assert sorted(rows, key=str) == sorted([(prediction_id, key_id, "refund"), (prediction_id, key_id, None)], key=str)


def test_the_rate_limit_triggers_per_key(serve_client, classifier_run: Path) -> None:  # noqa: F811
    client, keys = serve_client({"demo": classifier_run}, rate_limit_per_minute=5)
    prediction_id = _predict(client, keys["predict"])
    body = {"prediction_id": prediction_id, "rating": 4}
    codes = [client.post("/v1/feedback", json=body, headers=_auth(keys["feedback"])).status_code for _ in range(6)]
    assert codes == [201] * 5 + [429]
    assert client.post("/v1/feedback", json=body, headers=_auth(keys["all"])).status_code == 201  # another key


def test_1300_requests_in_21_seconds_exceed_1200_a_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(1200, clock=lambda: now[0])
    refused = []
    for i in range(1300):
        now[0] = i * 21 / 1300
        refused.append(limiter.allow("k") > 0)
    assert sum(refused) == 100 and not any(refused[:1200])
    now[0] = 60.0  # the first requests have left the window
    assert limiter.allow("k") == 0 and limiter.allow("k") > 0 and limiter.allow("other") == 0


def test_old_databases_get_the_key_id_column(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    with sqlite3.connect(database) as old:
        old.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY, prediction_id VARCHAR(64), label VARCHAR(200))")
        old.execute("INSERT INTO feedback (prediction_id, label) VALUES ('p-0', 'refund')")
    engine = connect(f"sqlite:///{database}")
    assert "key_id" in {column["name"] for column in inspect(engine).get_columns("feedback")}
    with Session(engine) as session:
        assert session.execute(select(Feedback.label, Feedback.key_id)).all() == [("refund", None)]
