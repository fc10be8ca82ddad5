"""MLflow tracking into a throwaway SQLite store: params, metrics per evaluation, run-dir artifacts."""

import json
from pathlib import Path

from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from tuneforge.cli import app


def test_run_is_tracked_in_mlflow(make_config, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = make_config(tracking={"backend": "mlflow", "uri": uri, "experiment": "support"})
    result = CliRunner().invoke(app, ["train", str(config), "--set", "train.epochs=3"], catch_exceptions=False)
    assert result.exit_code == 0, result.output

    run_dir = tmp_path / "runs" / "tiny"
    run_id = json.loads((run_dir / "tracking.json").read_text())["run_id"]
    client = MlflowClient(uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "support"
    assert float(run.data.params["train.epochs"]) == 3 and run.data.params["task"] == "text-classification"

    history = client.get_metric_history(run_id, "validation_macro_f1")
    assert [m.step for m in history] == [
        r["step"] for r in json.loads((run_dir / "metrics.json").read_text())["history"]
    ]
    assert {"test_accuracy", "best_validation_macro_f1", "train_loss"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"metrics.json", "report.md", "model"} <= artifacts
