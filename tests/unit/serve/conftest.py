"""Serving fixtures: a tiny trained classifier run and app clients with keys (chat model: tests/conftest.py)."""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tuneforge.serve import Settings, create_app
from tuneforge.serve.db import connect
from tuneforge.serve.keys import KeyStore

POSTGRES_URL = os.environ.get("TUNEFORGE_TEST_POSTGRES_URL")
LABELS = {
    "refund": ["I want my money back for order {n}", "我要退款，订单号{n}"],
    "delivery": ["where is my parcel {n}", "我的快递到哪了 {n}"],
}


def write_labelled_csv(path: Path, per_label: int = 12) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i in range(per_label):
            for label, templates in LABELS.items():
                writer.writerow([templates[i % 2].format(n=100 + i), label])
    return path


def train_tiny_run(model_dir: Path, data: Path, output: Path) -> Path:
    """One epoch of the tiny BERT on `data`; a real, complete run dir in a few seconds."""
    from tuneforge.config import load_config
    from tuneforge.tasks import train

    cfg = {
        "task": "text-classification",
        "model": str(model_dir),
        "data": {"train": str(data), "split": {"validation": 0.2, "test": 0.2, "seed": 1}},
        "train": {"epochs": 1, "batch_size": 8, "lr": 1e-3, "max_length": 32, "seed": 3},
        "output_dir": str(output),
        "tracking": "none",
    }
    config = output.parent / f"{output.name}.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return train(load_config(config, []))


@pytest.fixture(scope="session")
def classifier_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve-run")
    return train_tiny_run(tiny_model_dir, write_labelled_csv(folder / "train.csv"), folder / "clf")


def wait_ready(client: TestClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (response := client.get("/readyz")).status_code != 200:
        assert response.json().get("status") != "failed", response.json()
        assert time.monotonic() < deadline, "models did not load"
        time.sleep(0.05)


@pytest.fixture
def serve_client(tmp_path: Path) -> Iterator[Callable[..., tuple[TestClient, dict[str, str]]]]:
    """`serve_client(models, **settings)` -> (ready client, {"predict": key, "feedback": key, "admin": key, ...})."""
    clients: list[TestClient] = []

    def start(models: dict[str, Path], **settings: object) -> tuple[TestClient, dict[str, str]]:
        settings.setdefault("database_url", f"sqlite:///{tmp_path / 'serve.db'}")
        app = create_app(Settings(**settings), models)
        store = KeyStore(connect(str(settings["database_url"])))
        keys = {scope: store.create(f"{scope}-{len(clients)}", [scope]) for scope in ("predict", "feedback", "admin")}
        keys["all"] = store.create(f"all-{len(clients)}", ["predict", "feedback", "admin"])
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        wait_ready(client)
        return client, keys

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The serving database on SQLite and, where TUNEFORGE_TEST_POSTGRES_URL is set, a real PostgreSQL."""
    if request.param == "sqlite":
        engine = connect(f"sqlite:///{tmp_path / 'store.db'}")
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    else:
        if not POSTGRES_URL:
            pytest.skip("no PostgreSQL server: set TUNEFORGE_TEST_POSTGRES_URL (`. .ci/postgres.sh` starts one)")
        engine = connect(POSTGRES_URL)
    yield engine
    engine.dispose()
