"""Hot swap: reloading a model under load fails no request, and later requests see the new model."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _renamed_copy(run: Path, target: Path) -> Path:
    """The same weights with labels renamed, so that answers show which model served them."""
    shutil.copytree(run, target)
    config_file = target / "model" / "config.json"
    config = json.loads(config_file.read_text())
    config["id2label"] = {i: f"new-{label}" for i, label in config["id2label"].items()}
    config["label2id"] = {f"new-{label}": i for label, i in config["label2id"].items()}
    config_file.write_text(json.dumps(config))
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["labels"] = [f"new-{label}" for label in manifest["labels"]]
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def test_reload_under_load_fails_no_request(serve_client, classifier_run, tmp_path) -> None:
    roots = [classifier_run.parent, tmp_path]  # the new run is a folder of its own (tests/security: other paths)
    client, keys = serve_client({"demo": classifier_run}, rate_limit_per_minute=100_000, model_roots=roots)
    new_run = _renamed_copy(classifier_run, tmp_path / "new-run")
    codes: list[int] = []
    labels: list[str] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            response = client.post(
                "/v1/models/demo/predict", json={"texts": ["我要退款 1"]}, headers=_auth(keys["predict"])
            )
            codes.append(response.status_code)
            if response.status_code == 200:
                labels.append(response.json()["predictions"][0]["label"])

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    reloaded = client.post("/admin/models/demo/reload", json={"path": str(new_run)}, headers=_auth(keys["admin"]))
    after = client.post("/v1/models/demo/predict", json={"texts": ["a"]}, headers=_auth(keys["predict"]))
    stop.set()
    for worker in workers:
        worker.join()
    assert reloaded.status_code == 200, reloaded.text
    assert after.json()["predictions"][0]["label"].startswith("new-")
    assert codes and set(codes) == {200}
    assert any(not label.startswith("new-") for label in labels)  # requests were in flight across the swap

    missing = client.post(
        "/admin/models/demo/reload", json={"path": str(tmp_path / "nope")}, headers=_auth(keys["admin"])
    )
    assert missing.status_code == 422 and "nope" in missing.json()["detail"]
    assert client.post("/admin/models/other/reload", headers=_auth(keys["admin"])).status_code == 404
