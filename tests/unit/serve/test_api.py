"""The HTTP API on a tiny trained run: predictions, auth (401/403), limits (413/422/429), health, metrics."""

from __future__ import annotations

import logging
import time

import pytest

TEXTS = ["我的快递到哪了 7", "I want my money back for order 9"]


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_predict_returns_labels_probabilities_and_ids(serve_client, classifier_run) -> None:
    client, keys = serve_client({"demo": classifier_run})
    response = client.post("/v1/models/demo/predict", json={"texts": TEXTS}, headers=_auth(keys["predict"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "demo" and len(body["predictions"]) == 2
    for i, prediction in enumerate(body["predictions"]):
        assert prediction["id"] == f"{body['request_id']}-{i}"
        assert set(prediction["probabilities"]) == {"refund", "delivery"}
        assert abs(sum(prediction["probabilities"].values()) - 1) < 1e-4
        assert prediction["probabilities"][prediction["label"]] == prediction["score"]

    from tuneforge.tasks.text_classification.estimator import TextClassifier

    direct = TextClassifier.load(classifier_run).predict(TEXTS)
    assert [p["label"] for p in body["predictions"]] == [p.label for p in direct]


def test_precision_setting_runs_text_models_in_bf16_or_fp32(serve_client, classifier_run) -> None:
    from tuneforge.tasks.text_classification.estimator import TextClassifier

    direct = [p.score for p in TextClassifier.load(classifier_run).predict(TEXTS)]
    scores = {}
    for precision in ("fp32", "bf16"):
        client, keys = serve_client({"demo": classifier_run}, precision=precision)
        response = client.post("/v1/models/demo/predict", json={"texts": TEXTS}, headers=_auth(keys["predict"]))
        scores[precision] = [p["score"] for p in response.json()["predictions"]]
    assert scores["fp32"] == pytest.approx(direct, abs=1e-6)
    assert scores["bf16"] == pytest.approx(direct, abs=2e-2) and scores["bf16"] != scores["fp32"]


def test_security_checks(serve_client, classifier_run) -> None:
    client, keys = serve_client({"demo": classifier_run}, max_body_bytes=2_000)
    url, body = "/v1/models/demo/predict", {"texts": TEXTS}
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers=_auth("tf_00000000_forged")).status_code == 401
    assert client.post(url, json=body, headers=_auth(keys["feedback"])).status_code == 403
    assert client.post("/admin/models/demo/reload", headers=_auth(keys["predict"])).status_code == 403

    oversized = client.post(url, json={"texts": ["x" * 3_000]}, headers=_auth(keys["predict"]))
    assert oversized.status_code == 413
    bad_json = client.post(
        url, content=b'{"texts": ["a"', headers={**_auth(keys["predict"]), "Content-Type": "application/json"}
    )
    assert bad_json.status_code == 422 and bad_json.json()["detail"][0]["type"] == "json_invalid"


def test_revoked_key_gets_401(serve_client, classifier_run, tmp_path) -> None:
    from tuneforge.serve.db import connect
    from tuneforge.serve.keys import KeyStore

    client, keys = serve_client({"demo": classifier_run}, key_cache_seconds=0)  # the default trusts a key for 5 s
    headers = _auth(keys["predict"])
    assert client.post("/v1/models/demo/predict", json={"texts": ["a"]}, headers=headers).status_code == 200
    KeyStore(connect(f"sqlite:///{tmp_path / 'serve.db'}")).revoke("predict-0")
    assert client.post("/v1/models/demo/predict", json={"texts": ["a"]}, headers=headers).status_code == 401


def test_limits_name_the_field(serve_client, classifier_run) -> None:
    client, keys = serve_client({"demo": classifier_run}, max_texts=3, max_text_chars=20, max_queue=1)
    headers = _auth(keys["predict"])
    too_many = client.post("/v1/models/demo/predict", json={"texts": ["a"] * 4}, headers=headers)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["body", "texts"]
    too_long = client.post("/v1/models/demo/predict", json={"texts": ["ok", "y" * 21]}, headers=headers)
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["body", "texts", 1] and "20" in too_long.json()["detail"][0]["msg"]
    wrong_type = client.post("/v1/models/demo/predict", json={"texts": "not a list"}, headers=headers)
    assert wrong_type.status_code == 422 and wrong_type.json()["detail"][0]["loc"] == ["body", "texts"]
    assert client.post("/v1/models/nope/predict", json={"texts": ["a"]}, headers=headers).status_code == 404
    busy = client.post("/v1/models/demo/predict", json={"texts": ["a", "b"]}, headers=headers)  # 2 > max_queue
    assert busy.status_code == 503 and int(busy.headers["Retry-After"]) >= 1


def test_rate_limit_per_key(serve_client, classifier_run) -> None:
    client, keys = serve_client({"demo": classifier_run}, rate_limit_per_minute=3)
    codes = [
        client.post("/v1/models/demo/predict", json={"texts": ["a"]}, headers=_auth(keys["predict"])).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = client.post("/v1/models/demo/predict", json={"texts": ["a"]}, headers=_auth(keys["predict"]))
    assert int(limited.headers["Retry-After"]) >= 1
    other = client.post("/v1/models/demo/predict", json={"texts": ["a"]}, headers=_auth(keys["all"]))
    assert other.status_code == 200  # the limit is per key


def test_health_and_metrics(serve_client, classifier_run) -> None:
    client, keys = serve_client({"demo": classifier_run})
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["models"] == ["demo"]
    client.post("/v1/models/demo/predict", json={"texts": TEXTS}, headers=_auth(keys["predict"]))
    text = client.get("/metrics").text
    assert 'tuneforge_requests_total{method="POST",route="/v1/models/{name}/predict",status="200"} 1.0' in text
    assert 'tuneforge_batch_size_count{model="demo"} 1.0' in text
    assert 'tuneforge_batch_size_sum{model="demo"} 2.0' in text
    assert 'tuneforge_queue_depth{model="demo"} 0.0' in text
    assert "tuneforge_request_seconds_bucket" in text


def test_readyz_reports_a_failed_load(serve_client, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from tuneforge.serve import Settings, create_app

    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text('{"task": "text-classification"}')
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"), {"broken": tmp_path / "broken"})
    with TestClient(app) as client:
        for _ in range(100):
            if (body := client.get("/readyz").json())["status"] == "failed":
                break
            time.sleep(0.05)
        assert client.get("/readyz").status_code == 503 and "broken" in body["error"]
        assert client.get("/healthz").status_code == 200


def test_keys_never_logged(serve_client, classifier_run, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client, keys = serve_client({"demo": classifier_run})
    client.post("/v1/models/demo/predict", json={"texts": TEXTS}, headers=_auth(keys["all"]))
    client.post("/v1/models/demo/predict", json={"texts": TEXTS}, headers=_auth(keys["all"] + "x"))
    client.post("/admin/models/demo/reload", headers=_auth(keys["admin"]))
    assert "reloaded" in caplog.text  # the log is on, and names the key...
    for key in keys.values():
        assert key not in caplog.text and key.split("_", 2)[2] not in caplog.text  # ...but never the key itself
