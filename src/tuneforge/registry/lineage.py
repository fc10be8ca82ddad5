"""The lineage of a run a user registers by hand (`tuneforge models add`): what it was trained from, read off its
run dir. Retraining rounds write their own, richer lineage."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

__all__ = ["main_metrics", "run_lineage"]


def run_lineage(run_dir: Path) -> dict[str, Any]:
    """source, config, data (sha256 of each data file still on disk), metrics, gate (none), strategy, tracking."""
    config = _read_yaml(run_dir / "config.yaml")
    lineage: dict[str, Any] = {
        "source": str(run_dir.resolve()),
        "config": config,
        "data": _data_hashes(config.get("data") or {}),
        "metrics": _read_json(run_dir / "metrics.json"),
        "gate": None,
        "strategy": "manual",
    }
    tracking = _read_json(run_dir / "tracking.json")  # start_tracking writes {"uri", "run_id"}
    if tracking.get("run_id") and tracking.get("uri"):
        lineage["tracking"] = {"tracking_uri": tracking["uri"], "run_id": tracking["run_id"]}
    return lineage


def main_metrics(metrics: dict[str, Any], limit: int = 2) -> dict[str, float]:
    """The first `limit` numbers of the test split (else validation, else the top level): what `models list` shows."""
    for split in ("test", "validation"):
        if isinstance(metrics.get(split), dict):
            metrics = metrics[split]
            break
    numbers = {key: value for key, value in metrics.items() if isinstance(value, int | float) and key != "n"}
    return dict(list(numbers.items())[:limit])


def _data_hashes(data: dict[str, Any]) -> dict[str, str]:
    hashes = {}
    for split in ("train", "validation", "test"):
        path = Path(str(data.get(split) or ""))
        if data.get(split) and path.is_file():
            hashes[split] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def _read_yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return loaded if isinstance(loaded, dict) else {}


def _read_json(path: Path) -> dict[str, Any]:
    loaded = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    return loaded if isinstance(loaded, dict) else {}
