"""Inputs that once made the server answer 500 or leak: a body `NaN`, lone surrogates, an `?api_key=` in the
access log, and chunked bodies over the limit (a 400 instead of 413)."""

import logging
import logging.config
from pathlib import Path

from tests.unit.serve.conftest import classifier_run, serve_client  # noqa: F401  (fixtures)
from tuneforge.serve.server import RedactQuery, _log_config

PREDICT = "/v1/models/demo/predict"


def _auth(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def test_nan_and_lone_surrogates_get_a_422_in_json(serve_client, classifier_run: Path) -> None:  # noqa: F811
    client, keys = serve_client({"demo": classifier_run})
    json_body = _auth(keys["all"], **{"Content-Type": "application/json"})
    for url in (PREDICT, "/v1/feedback", "/v1/chat/completions"):
        response = client.post(url, content=b"NaN", headers=json_body)
        assert response.status_code == 422 and "input" not in response.json()["detail"][0], (url, response.text)

    surrogate = client.post(PREDICT, content=b'{"texts": ["ok", "a\\ud800b"]}', headers=json_body)
    assert surrogate.status_code == 422
    assert surrogate.json()["detail"][0]["loc"] == ["body", "texts", 1]
    assert "surrogate" in surrogate.json()["detail"][0]["msg"]
    field_name = client.post(PREDICT, content=b'{"texts": ["ok"], "\\udc00": NaN}', headers=json_body)
    assert field_name.status_code == 422 and field_name.json()["detail"]  # the echoed input was a 500
    label = client.post("/v1/feedback", content=b'{"prediction_id": "p", "label": "\\ud800"}', headers=json_body)
    assert label.status_code == 422 and label.json()["detail"][0]["loc"][:2] == ["body", "label"]


def test_chunked_bodies_over_the_limit_get_413(serve_client, classifier_run: Path) -> None:  # noqa: F811
    client, keys = serve_client({"demo": classifier_run}, max_body_bytes=2_000)
    headers = _auth(keys["predict"], **{"Content-Type": "application/json"})
    chunks = [b'{"texts": ["', b"x" * 1_500, b"x" * 1_500, b'"]}']
    response = client.post(PREDICT, content=iter(chunks), headers=headers)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413 and "2000 bytes" in response.json()["detail"]
    small = client.post(PREDICT, content=iter([b'{"texts": ', b'["ok"]}']), headers=headers)
    assert small.status_code == 200


def test_query_strings_are_redacted_in_the_access_log(tmp_path: Path) -> None:
    import uvicorn

    config = _log_config(uvicorn.config.LOGGING_CONFIG)
    assert uvicorn.config.LOGGING_CONFIG["loggers"]["uvicorn.access"].get("filters") is None  # not changed in place
    config["handlers"]["access"] = {"class": "logging.FileHandler", "filename": str(tmp_path / "access.log")}
    config["handlers"]["access"]["formatter"] = "access"
    access = logging.getLogger("uvicorn.access")
    saved = access.handlers[:], access.filters[:], access.level, access.propagate
    try:
        logging.config.dictConfig(config)
        assert any(isinstance(f, RedactQuery) for f in access.filters)
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:9", "GET", "/v1/models?api_key=tf_ab_secret&x=1", "1.1", 401)
        for handler in access.handlers:
            handler.flush()
    finally:
        for handler in access.handlers:
            handler.close()
        access.handlers[:], access.filters[:], access.level, access.propagate = saved
    line = (tmp_path / "access.log").read_text()
    assert "/v1/models?api_key=***&x=*** HTTP/1.1" in line and "secret" not in line
