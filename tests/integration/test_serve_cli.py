"""The serving CLI end to end: keys, feedback export that `tuneforge train` reads, and a kill -9 of the server."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.serve import Settings, create_app

runner = CliRunner()
SRC = Path(__file__).resolve().parents[2] / "src"


def _invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _create_key(database: str, scopes: str) -> str:
    result = _invoke("keys", "create", "--name", scopes.replace(",", "-"), "--scopes", scopes, "--database", database)
    assert result.exit_code == 0, result.output
    return next(line for line in result.output.splitlines() if line.startswith("tf_"))


def test_feedback_export_trains_unchanged(make_config, tmp_path: Path, intents_csv: Path) -> None:
    assert _invoke("train", make_config(), "--set", "train.epochs=1").exit_code == 0
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    headers = {"Authorization": f"Bearer {_create_key(database, 'predict,feedback')}"}
    rows = list(csv.DictReader(intents_csv.open(encoding="utf-8")))
    rows[0]["text"] += " call 138-1234-5678"  # personal data must not reach the store

    settings = Settings(database_url=database, log_texts=True)
    with TestClient(create_app(settings, {"tiny": tmp_path / "runs" / "tiny"})) as client:
        while client.get("/readyz").status_code != 200:
            time.sleep(0.05)
        for start in range(0, len(rows), 20):
            chunk = rows[start : start + 20]
            response = client.post(
                "/v1/models/tiny/predict", json={"texts": [r["text"] for r in chunk]}, headers=headers
            )
            assert response.status_code == 200, response.text
            for row, prediction in zip(chunk, response.json()["predictions"], strict=True):
                feedback = {"prediction_id": prediction["id"], "label": row["label"]}
                assert client.post("/v1/feedback", json=feedback, headers=headers).status_code == 201

    exported = tmp_path / "new_labels.csv"
    result = _invoke(
        "feedback", "export", "--model", "tiny", "--since", "2026-01-01", "--output", exported, "--database", database
    )
    assert result.exit_code == 0, result.output
    written = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert len(written) == len(rows) and {r["label"] for r in written} == {r["label"] for r in rows}
    assert "138-1234-5678" not in exported.read_text(encoding="utf-8") and "[PHONE]" in written[0]["text"]

    config = make_config(
        data={"train": str(exported), "split": {"validation": 0.2, "test": 0.2, "seed": 1}},
        output_dir=str(tmp_path / "runs" / "retrained"),
    )
    result = _invoke("train", config, "--set", "train.epochs=1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "retrained" / "manifest.json").is_file()

    later = _invoke(
        "feedback", "export", "--model", "tiny", "--since", "2999-01-01", "--output", exported, "--database", database
    )
    assert later.exit_code == 2 and "no labelled texts in the feedback" in later.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(models: list[str], database: str, port: int, **settings: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "HF_HUB_OFFLINE": "1"}
    env.update({f"TUNEFORGE_{name.upper()}": value for name, value in settings.items()})
    command = [sys.executable, "-m", "tuneforge", "serve", *models, "--port", str(port), "--database", database]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError("server did not become ready in 90 s")


@pytest.mark.slow
def test_kill_9_keeps_every_acknowledged_feedback(tiny_llama_dir: Path, tmp_path: Path) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tuneforge.serve.db import Feedback, PredictionRecord, connect

    database = f"sqlite:///{tmp_path / 'serve.db'}"
    headers = {"Authorization": f"Bearer {_create_key(database, 'feedback')}"}
    with Session(connect(database)) as session:  # feedback is taken only for logged predictions
        ids = [f"w{worker}-{i}" for worker in range(4) for i in range(5_000)]
        session.add_all(PredictionRecord(id=i, model="chat", task="causal-lm", output={}) for i in ids)
        session.commit()
    port = _free_port()
    # A limit no load test reaches: this test is about durability under kill -9, not throttling.
    server = _start_server([f"chat={tiny_llama_dir}"], database, port, rate_limit_per_minute="1000000000")
    acknowledged: list[str] = []
    stop = threading.Event()

    def send(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=5) as client:
            for i in range(5_000):
                if stop.is_set():
                    return
                prediction_id = f"w{worker}-{i}"
                try:
                    response = client.post("/v1/feedback", json={"prediction_id": prediction_id, "rating": 4})
                except httpx.TransportError:
                    return  # the server is gone: this write was never acknowledged
                if response.status_code == 201:
                    acknowledged.append(prediction_id)

    workers = [threading.Thread(target=send, args=(w,)) for w in range(4)]
    for worker in workers:
        worker.start()
    while len(acknowledged) < 200:
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)  # mid-load: requests are in flight
    server.wait()
    stop.set()
    for worker in workers:
        worker.join()

    server = _start_server([f"chat={tiny_llama_dir}"], database, port)
    try:
        with Session(connect(database)) as session:
            stored = set(session.scalars(select(Feedback.prediction_id)))
    finally:
        server.terminate()
        server.wait()
    assert len(acknowledged) >= 200
    assert not set(acknowledged) - stored


@pytest.mark.slow
def test_schemathesis_finds_no_5xx_and_no_schema_violation(make_config, tiny_llama_dir: Path, tmp_path: Path) -> None:
    """Bar 2: every operation of the OpenAPI schema, fuzzed by schemathesis with all its checks."""
    assert _invoke("train", make_config(), "--set", "train.epochs=1").exit_code == 0
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    key = _create_key(database, "predict,feedback,admin")
    port = _free_port()
    models = [f"demo={tmp_path / 'runs' / 'tiny'}", f"chat={tiny_llama_dir}"]
    server = _start_server(models, database, port, max_new_tokens="4", rate_limit_per_minute="1000000000")
    try:
        fuzz = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "-H",
                f"Authorization: Bearer {key}",
                "--checks",
                "all",
                "-n",
                "25",
                "--request-timeout",
                "60",
            ],
            capture_output=True,
            text=True,
            timeout=540,
        )
    finally:
        server.terminate()
        server.wait()
    assert fuzz.returncode == 0, fuzz.stdout[-6000:] + fuzz.stderr[-2000:]
