"""serve --registry: the champion is served, a promotion or rollback is picked up by itself within seconds, a
version that fails to load leaves the old one serving; feedback may name new labels when allowed."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tuneforge.registry import ModelVersions
from tuneforge.serve import Settings, create_app
from tuneforge.serve.db import connect
from tuneforge.serve.keys import KeyStore
from tuneforge.serve.watch import champions


def _relabelled(run: Path, target: Path, prefix: str) -> Path:
    """The same weights with labels renamed, so that answers show which version served them."""
    shutil.copytree(run, target)
    for name in ("model/config.json", "manifest.json"):
        data = json.loads((target / name).read_text())
        if "id2label" in data:
            data["id2label"] = {i: f"{prefix}{label}" for i, label in data["id2label"].items()}
            data["label2id"] = {f"{prefix}{label}": i for label, i in data["label2id"].items()}
        if "labels" in data:
            data["labels"] = [f"{prefix}{label}" for label in data["labels"]]
        (target / name).write_text(json.dumps(data))
    return target


@pytest.fixture
def registry(classifier_run: Path, tmp_path: Path) -> ModelVersions:
    """intent v1 (champion, the trained labels) and v2 (labels prefixed new-)."""
    intent = ModelVersions(tmp_path / "models", "intent")
    intent.add(classifier_run, {"source": "test"}, copy=True)
    intent.promote("v1", "first version")
    intent.add(_relabelled(classifier_run, tmp_path / "v2-run", "new-"), {"source": "test"})
    return intent


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., tuple[TestClient, str]]]:
    """`start(root, **settings)` -> (ready client serving `intent` from the registry, a key with every scope)."""
    clients: list[TestClient] = []

    def run(root: Path, **settings: object) -> tuple[TestClient, str]:
        database = f"sqlite:///{tmp_path / 'serve.db'}"
        found = champions(root, ["intent"])
        app = create_app(
            Settings(registry=root, database_url=database, rate_limit_per_minute=100_000, **settings),
            {name: version.path for name, version in found.items()},
            {name: version.tag for name, version in found.items()},
        )
        key = KeyStore(connect(database)).create(f"k{len(clients)}", ["predict", "feedback", "admin"])
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "model did not load"
            time.sleep(0.05)
        return client, key

    yield run
    for client in clients:
        client.__exit__(None, None, None)


def _answer(client: TestClient, key: str) -> tuple[str, str]:
    """(X-Model-Version, label) of one prediction."""
    response = client.post(
        "/v1/models/intent/predict", json={"texts": ["我要退款 1"]}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    return response.headers["X-Model-Version"], response.json()["predictions"][0]["label"]


def _wait_for(client: TestClient, key: str, version: str, seconds: float = 5) -> tuple[str, str]:
    deadline = time.monotonic() + seconds
    while (answer := _answer(client, key))[0] != version:
        assert time.monotonic() < deadline, f"still {answer} {seconds} s after the pointer moved to {version}"
        time.sleep(0.05)
    return answer


def test_promotion_and_rollback_are_served_within_seconds(registry: ModelVersions, start) -> None:
    client, key = start(registry.root)
    version, label = _answer(client, key)
    assert version == "v1" and not label.startswith("new-")
    cards = client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).json()["data"]
    assert cards == [
        {
            "id": "intent",
            "object": "model",
            "created": 0,
            "owned_by": "tuneforge",
            "task": cards[0]["task"],
            "version": "v1",
        }
    ]

    registry.promote("v2", "better")
    assert _wait_for(client, key, "v2")[1].startswith("new-")
    registry.rollback()
    assert not _wait_for(client, key, "v1")[1].startswith("new-")


def test_a_version_that_fails_to_load_keeps_the_old_one(
    registry: ModelVersions, start, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = shutil.copytree(registry.version("v2").path, tmp_path / "broken")
    (broken / "lineage.json").unlink()
    shutil.rmtree(broken / "model")
    registry.add(broken, {"source": "test"})
    client, key = start(registry.root)
    registry.promote("v3", "broken on purpose")
    deadline = time.monotonic() + 5
    while "new champion not loaded" not in caplog.text:
        assert time.monotonic() < deadline, "the failed load was never logged"
        time.sleep(0.05)
    assert _answer(client, key)[0] == "v1"
    registry.promote("v2", "a good one")  # the watcher still follows the pointer
    _wait_for(client, key, "v2")


def _prediction_id(client: TestClient, key: str) -> str:
    response = client.post(
        "/v1/models/intent/predict", json={"texts": ["cancel it"]}, headers={"Authorization": f"Bearer {key}"}
    )
    prediction = response.json()["predictions"][0]["id"]
    store, deadline = client.app.state.serving.feedback, time.monotonic() + 10
    while not store.known_prediction(prediction):  # logged by a background thread
        assert time.monotonic() < deadline, "prediction was never logged"
        time.sleep(0.02)
    return prediction


@pytest.mark.parametrize("allowed", [False, True])
def test_feedback_new_labels(registry: ModelVersions, start, allowed: bool) -> None:
    client, key = start(registry.root, feedback_new_labels=allowed)
    prediction = _prediction_id(client, key)

    def feedback(label: str) -> int:
        body = {"prediction_id": prediction, "label": label}
        return client.post("/v1/feedback", json=body, headers={"Authorization": f"Bearer {key}"}).status_code

    assert feedback("refund") == 201
    assert feedback("cancel_order") == (201 if allowed else 422)
    for bad in ("=HYPERLINK(1)", "@SUM", "-2+3", "bell\x07", "x" * 101):
        assert feedback(bad) == 422, bad
