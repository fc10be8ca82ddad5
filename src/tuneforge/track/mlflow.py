"""MLflow tracking, imported only when used; `NullTracker` keeps callers free of if-statements."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tuneforge.config import Config

__all__ = ["NullTracker", "Tracker", "start_tracking"]


class NullTracker:
    def log_params(self, params: dict[str, Any]) -> None: ...
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None: ...
    def log_artifacts(self, folder: Path) -> None: ...
    def end(self, status: str = "FINISHED") -> None: ...


class Tracker(NullTracker):
    """One MLflow run; params, metrics per evaluation step and the run dir's artifacts."""

    def __init__(self, uri: str, experiment: str, run_name: str, run_id: str | None) -> None:
        import mlflow

        logging.getLogger("mlflow").setLevel(logging.WARNING)  # its INFO lines (table creation...) drown our report
        self._mlflow = mlflow
        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment(experiment)
        self.run_id = mlflow.start_run(run_id=run_id, run_name=None if run_id else run_name).info.run_id

    def log_params(self, params: dict[str, Any]) -> None:
        # MLflow caps a param value at 6,000 characters; ours are short scalars and paths.
        self._mlflow.log_params({k: str(v)[:500] for k, v in params.items()})

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        numeric = {k.replace("@", "_at_"): float(v) for k, v in metrics.items() if isinstance(v, int | float)}
        self._mlflow.log_metrics(numeric, step=step)

    def log_artifacts(self, folder: Path) -> None:
        self._mlflow.log_artifacts(str(folder))

    def end(self, status: str = "FINISHED") -> None:
        self._mlflow.end_run(status=status)


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def start_tracking(cfg: Config, run_dir: Path) -> NullTracker:
    """Start an MLflow run for `cfg`: a local SQLite store in ./mlruns unless `tracking.uri` says otherwise.

    The run id is kept in `run_dir/tracking.json`, so a resumed training logs into the same MLflow run.
    """
    if cfg.tracking.backend == "none":
        return NullTracker()
    if cfg.tracking.uri:
        uri = cfg.tracking.uri
    else:
        store = Path("mlruns").resolve()
        store.mkdir(exist_ok=True)
        uri = f"sqlite:///{store / 'mlflow.db'}"
    saved = run_dir / "tracking.json"
    run_id = json.loads(saved.read_text())["run_id"] if saved.is_file() else None
    tracker = Tracker(uri, cfg.tracking.experiment or cfg.output_dir.name, cfg.output_dir.name, run_id)
    if run_id is None:
        tracker.log_params(_flatten(cfg.model_dump(mode="json")))
        saved.write_text(json.dumps({"uri": uri, "run_id": tracker.run_id}))
    return tracker
