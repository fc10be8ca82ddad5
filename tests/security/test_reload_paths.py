"""POST /admin/models/{name}/reload loads only from the server's model folders: an admin key cannot make the
server load (and run) whatever a path on the machine holds."""

from pathlib import Path

from tests.unit.serve.conftest import classifier_run, serve_client  # noqa: F401  (fixtures)


def _reload(client, key: str, path: Path):
    return client.post(
        "/admin/models/demo/reload", json={"path": str(path)}, headers={"Authorization": f"Bearer {key}"}
    )


def test_a_path_outside_the_model_folders_is_refused(serve_client, classifier_run: Path, tmp_path: Path) -> None:  # noqa: F811
    client, keys = serve_client({"demo": classifier_run})
    outside = tmp_path / "elsewhere" / "run"
    outside.mkdir(parents=True)
    response = _reload(client, keys["admin"], outside)
    assert response.status_code == 403 and "outside the model folders" in response.json()["detail"]
    sneaky = classifier_run.parent / ".." / tmp_path.name / "elsewhere" / "run"  # `..` and symlinks resolve first
    assert _reload(client, keys["admin"], sneaky).status_code == 403
    assert _reload(client, keys["admin"], classifier_run).status_code == 200  # its own folder: allowed


def test_configured_model_roots_replace_the_default(serve_client, classifier_run: Path, tmp_path: Path) -> None:  # noqa: F811
    client, keys = serve_client({"demo": classifier_run}, model_roots=[tmp_path / "only-here"])
    assert _reload(client, keys["admin"], classifier_run).status_code == 403


def test_a_path_with_a_nul_character_is_a_422(serve_client, classifier_run: Path) -> None:  # noqa: F811
    client, keys = serve_client({"demo": classifier_run})
    response = client.post(
        "/admin/models/demo/reload", json={"path": "runs/\u0000x"}, headers={"Authorization": f"Bearer {keys['admin']}"}
    )
    assert response.status_code == 422 and "NUL" in response.json()["detail"]
