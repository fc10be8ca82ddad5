"""A finished tabular run as a predictor: probability, decision at the run's threshold, top contributing features.

>>> predictor = load("runs/credit-demo")  # doctest: +SKIP
>>> predictor.predict([{"age": 35, "purpose": "car", ...}])[0]["decision"]  # doctest: +SKIP
'bad'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tuneforge.config import Config
from tuneforge.data.rows import Row
from tuneforge.errors import DataError, RunError
from tuneforge.rundir import read_json
from tuneforge.tabular.config import TabularConfig
from tuneforge.tabular.families import FAMILIES, Family
from tuneforge.tabular.schema import ParsedRows, Schema, parse_rows
from tuneforge.tabular.scoring import contributions

__all__ = ["TabularPredictor", "load"]


class TabularPredictor:
    def __init__(self, cfg: Config, schema: Schema, model: Family, manifest: dict[str, Any]) -> None:
        self.cfg, self.schema, self.model = cfg, schema, model
        self.tabular = cfg.tabular or TabularConfig()
        self.threshold: float = manifest["threshold"]
        self.family: str = manifest["model_family"]

    def parse(self, rows: list[Row], source: str, *, labelled: bool) -> ParsedRows:
        """Rows read against the training schema; the unknown-category and missing-value policies apply."""
        return parse_rows(rows, source, self.schema, self.tabular, labelled=labelled, training=False)

    def predict_frame(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        probabilities, top = contributions(self.model.predict_proba, frame, self.schema, self.tabular.top_features)
        negative, positive = self.schema.classes
        return [
            {
                "probability": round(float(p), 6),  # of the positive class
                "decision": positive if p >= self.threshold else negative,
                "threshold": self.threshold,
                "top_features": features,
            }
            for p, features in zip(probabilities, top, strict=True)
        ]

    def predict(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """JSON-able predictions of records (column -> value); any bad record raises a DataError naming it."""
        rows = [Row(i + 1, dict(r), repr(r)) for i, r in enumerate(records)]
        parsed = self.parse(rows, "record", labelled=False)
        if parsed.errors:
            raise DataError(
                f"{len({e.line for e in parsed.errors})} invalid record(s)", [str(e) for e in parsed.errors]
            )
        return self.predict_frame(parsed.frame)


def load(run_dir: str | Path) -> TabularPredictor:
    """The predictor of a finished tabular-classification run: its schema, best model and threshold."""
    run_dir = Path(run_dir)
    manifest = read_json(run_dir / "manifest.json")
    if manifest.get("task") != "tabular-classification":
        raise RunError(f"{run_dir} holds a '{manifest.get('task')}' run, not a tabular-classification run")
    cfg = Config.model_validate(yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")))
    schema = Schema.from_dict(read_json(run_dir / "schema.json"))
    model = FAMILIES[manifest["model_family"]]().load(run_dir / "model", schema, cfg)
    return TabularPredictor(cfg, schema, model, manifest)
