"""A finished tabular run as a predictor: probability, decision at the run's threshold, top contributing features.

>>> predictor = load("runs/credit-demo")  # doctest: +SKIP
>>> predictor.predict([{"age": 35, "purpose": "car", ...}])[0]["decision"]  # doctest: +SKIP
'bad'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from rich import get_console

from tuneforge.config import Config
from tuneforge.config.tabular import TabularConfig
from tuneforge.data.read import read_table
from tuneforge.data.records import output_columns, write_records
from tuneforge.data.rows import Row, Table
from tuneforge.errors import DataError, RunError
from tuneforge.rundir import read_json, read_manifest, run_config, write_evaluation
from tuneforge.tasks.tabular.families import FAMILIES, Family
from tuneforge.tasks.tabular.schema import ParsedRows, Schema, parse_rows
from tuneforge.tasks.tabular.scoring import contributions, fold_scores

__all__ = ["TabularPredictor", "load"]


class TabularPredictor:
    def __init__(
        self, cfg: Config, schema: Schema, model: Family, manifest: dict[str, Any], run_dir: Path | None = None
    ) -> None:
        self.cfg, self.schema, self.model, self.run_dir = cfg, schema, model, run_dir
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

    def preprocess(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return records  # read against the run's schema (or the catalogue) inside predict

    def predict_json(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.predict(records)  # already JSON-able

    def show(self, inputs: list[Any]) -> None:
        raise DataError("a tabular run scores table rows, not texts: give a CSV, JSONL or Parquet file with --input")

    def predict_file(self, source: Path, output: Path, *, text_column: str | None = None) -> None:
        """Write `output` (.csv or .jsonl): the input columns plus probability, decision and top_features."""
        _predict_file(self, source, output)

    def evaluate_file(self, source: Path) -> dict[str, Any]:
        """Scores on a labelled file; bad rows are skipped and listed. Writes RUN/evaluations/<name>/."""
        return _evaluate_file(self, source)


def load(run_dir: str | Path) -> TabularPredictor:
    """The predictor of a finished tabular-classification run: its schema, best model and threshold."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir, "tabular-classification")
    cfg = run_config(run_dir)
    schema = Schema.from_dict(read_json(run_dir / "schema.json"))
    _check_versions(run_dir, manifest)
    model = FAMILIES[manifest["model_family"]]().load(run_dir / "model", schema, cfg)
    return TabularPredictor(cfg, schema, model, manifest, run_dir)


def _check_versions(run_dir: Path, manifest: dict[str, Any]) -> None:
    # A scikit-learn model read by another scikit-learn release may predict differently without an error.
    import sklearn

    recorded = manifest.get("versions", {}).get("scikit-learn")
    if manifest["model_family"] != "lm" and recorded != sklearn.__version__:
        raise RunError(
            f"{run_dir} was trained with scikit-learn {recorded}, this is {sklearn.__version__}: install "
            f"scikit-learn=={recorded} to use it, or retrain the run"
        )


def _read_file(predictor: TabularPredictor, source: Path, *, labelled: bool) -> tuple[list[str], Table, ParsedRows]:
    data = predictor.cfg.data
    table = read_table(source, data.format, data.encoding)
    needed = {f"feature '{name}' (from the run's schema)": name for name in predictor.schema.names}
    if labelled:
        needed["data.label_column"] = predictor.schema.target
    table.require(needed)
    return table.columns, table, predictor.parse(table.rows, table.source, labelled=labelled)


def _predict_file(predictor: TabularPredictor, source: Path, output: Path) -> None:
    """Write `output` (.csv or .jsonl): the input columns plus probability, decision and top_features."""
    columns, table, parsed = _read_file(predictor, source, labelled=False)
    header = output_columns(source, columns, ["probability", "decision", "threshold", "top_features"])
    if parsed.errors:
        raise DataError(
            f"{source}: {len({e.line for e in parsed.errors})} invalid row(s)", [str(e) for e in parsed.errors]
        )
    originals = {row.line: row.values for row in table.rows}
    predictions = predictor.predict_frame(parsed.frame)
    as_text = output.suffix.lower() != ".jsonl"  # a CSV cell holds the list as JSON
    records = [
        {
            **originals[line],
            **p,
            "top_features": json.dumps(p["top_features"], ensure_ascii=False) if as_text else p["top_features"],
        }
        for line, p in zip(parsed.lines, predictions, strict=True)
    ]
    write_records(output, header, records)
    get_console().print(f"{len(records)} predictions written to [bold]{output}[/]")


def _evaluate_file(predictor: TabularPredictor, source: Path) -> dict[str, Any]:
    """Score the run's model on a labelled file; bad rows are skipped and listed. Writes RUN/evaluations/<name>/."""
    _, _, parsed = _read_file(predictor, source, labelled=True)
    y = parsed.labels
    if y is None or len(set(y.tolist())) < 2:
        raise DataError(f"{source}: ROC-AUC needs good rows of both classes ({', '.join(predictor.schema.classes)})")
    probabilities = predictor.model.predict_proba(parsed.frame)
    results: dict[str, Any] = {
        **fold_scores(y, probabilities, predictor.threshold, predictor.tabular.cost),
        "threshold": predictor.threshold,
        "model": predictor.family,
        "size": len(y),
        "rejected_rows": [str(e) for e in parsed.errors],
    }
    lines = [
        f"# evaluation on {source.name}",
        "",
        f"model: {predictor.family}, {len(y)} rows, {len(parsed.errors)} row problems",
        "",
    ]
    lines += ["| metric | value |", "|---|---|"]
    lines += [f"| {k} | {results[k]:.4f} |" for k in ("roc_auc", "accuracy", "f1", "cost_per_row")]
    out = write_evaluation(predictor.run_dir, source, results, "\n".join(lines) + "\n")
    get_console().print(
        f"[bold green]{source.name}[/]: ROC-AUC {results['roc_auc']:.4f}, accuracy {results['accuracy']:.4f}, "
        f"cost/row {results['cost_per_row']:.4f} at threshold {predictor.threshold:.3f} ({len(y)} rows); "
        f"report in {out}"
    )
    return results
