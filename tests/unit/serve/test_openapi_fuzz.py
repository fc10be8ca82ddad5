"""Schemathesis against the OpenAPI schema (bar 2): no 5xx, responses match the schema, for every operation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tuneforge.serve import Settings, create_app


@pytest.fixture
def api_schema(classifier_run, chat_model_dir, tmp_path):
    from fastapi.testclient import TestClient

    from tuneforge.serve.db import connect
    from tuneforge.serve.keys import KeyStore

    database = f"sqlite:///{tmp_path / 'fuzz.db'}"
    config = Settings(database_url=database, max_new_tokens=4, rate_limit_per_minute=10**9)
    app = create_app(config, {"demo": classifier_run, "chat": chat_model_dir})
    key = KeyStore(connect(database)).create("fuzz", ["predict", "feedback", "admin"])
    with TestClient(app) as client:  # runs the lifespan: models load
        while client.get("/readyz").status_code != 200:
            pass
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        schema.config.headers = {"Authorization": f"Bearer {key}"}
        yield schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case) -> None:
    case.call_and_validate(headers=case.operation.schema.config.headers)
