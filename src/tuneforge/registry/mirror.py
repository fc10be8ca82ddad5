"""The MLflow Model Registry as a mirror of ours: a version trained with tracking on becomes an MLflow model
version (tagged `tuneforge_version`), and the aliases `challenger` (newest added) and `champion` follow ours.

The registry folder stays the source of truth: when MLflow cannot be reached the mirror logs a warning and the
local operation still counts. mlflow is imported only for versions whose lineage holds `tracking`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneforge.registry.versions import Version

__all__ = ["register", "set_champion"]

log = logging.getLogger("tuneforge.registry")
_TAG_KEY = "tuneforge_version"


def _tracking(version: Version) -> dict[str, Any] | None:
    """`{"tracking_uri", "run_id"}` from the lineage; run dirs' own tracking.json names the URI `uri`."""
    tracking = version.lineage.get("tracking")
    if not isinstance(tracking, dict) or not tracking.get("run_id"):
        return None
    uri = tracking.get("tracking_uri") or tracking.get("uri")
    return {"tracking_uri": uri, "run_id": tracking["run_id"]} if uri else None


def _client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # its INFO lines (table creation...) drown ours
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def register(name: str, version: Version) -> str | None:
    """Create the MLflow model version of `version` and point `challenger` at it; its MLflow number, or None."""
    tracking = _tracking(version)
    if tracking is None:
        return None
    try:
        return _register(_client(tracking["tracking_uri"]), name, version, tracking["run_id"])
    except Exception as exc:  # a mirror: an unreachable or refusing MLflow must not undo the local add
        log.warning("MLflow registry: %s %s not mirrored: %s: %s", name, version.tag, type(exc).__name__, exc)
        return None


def _register(client: Any, name: str, version: Version, run_id: str) -> str:
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, description="Mirrored from a tuneforge model registry.")
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    try:  # the run's artifacts: finish_run logs the whole run dir there
        source = client.get_run(run_id).info.artifact_uri
    except MlflowException:
        source = str(version.path.resolve())
    created = client.create_model_version(name, source=source, run_id=run_id, tags={_TAG_KEY: version.tag})
    client.set_registered_model_alias(name, "challenger", created.version)
    return str(created.version)


def set_champion(name: str, version: Version) -> None:
    """Point `champion` at `version`'s MLflow model version (and drop `challenger` if it named the same)."""
    tracking = _tracking(version)
    if tracking is None:
        return
    try:
        client = _client(tracking["tracking_uri"])
        number = _mlflow_number(client, name, version.tag)
        if number is None:
            log.warning("MLflow registry: %s %s was never mirrored; champion alias left as it was", name, version.tag)
            return
        client.set_registered_model_alias(name, "champion", number)
        if str(client.get_registered_model(name).aliases.get("challenger")) == number:
            client.delete_registered_model_alias(name, "challenger")
    except Exception as exc:  # see register
        log.warning("MLflow registry: champion alias of %s not moved: %s: %s", name, type(exc).__name__, exc)


def _mlflow_number(client: Any, name: str, tag: str) -> str | None:
    for model_version in client.search_model_versions(f"name='{name}'"):
        if model_version.tags.get(_TAG_KEY) == tag:
            return str(model_version.version)
    return None
