"""`tuneforge predict` and `tuneforge evaluate` for tabular runs: files in, predictions or metrics out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import get_console

from tuneforge.data.read import read_table
from tuneforge.data.rows import Table
from tuneforge.errors import DataError
from tuneforge.predict import write_records
from tuneforge.rundir import write_json, write_text
from tuneforge.tabular.predictor import TabularPredictor, load
from tuneforge.tabular.schema import ParsedRows
from tuneforge.tabular.scoring import fold_scores

__all__ = ["evaluate_table_file", "predict_table_file"]


def _read(predictor: TabularPredictor, source: Path, *, labelled: bool) -> tuple[list[str], Table, ParsedRows]:
    data = predictor.cfg.data
    table = read_table(source, data.format, data.encoding)
    needed = {f"feature '{name}' (from the run's schema)": name for name in predictor.schema.names}
    if labelled:
        needed["data.label_column"] = predictor.schema.target
    table.require(needed)
    return table.columns, table, predictor.parse(table.rows, table.source, labelled=labelled)


def predict_table_file(run_dir: Path, source: Path, output: Path) -> None:
    """Write `output` (.csv or .jsonl): the input columns plus probability, decision and top_features."""
    predictor = load(run_dir)
    columns, table, parsed = _read(predictor, source, labelled=False)
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
    added = [k for k in ("probability", "decision", "threshold", "top_features") if k not in columns]
    write_records(output, [*columns, *added], records)
    get_console().print(f"{len(records)} predictions written to [bold]{output}[/]")


def evaluate_table_file(run_dir: Path, source: Path) -> dict[str, Any]:
    """Score the run's model on a labelled file; bad rows are skipped and listed. Writes RUN/evaluations/<name>/."""
    predictor = load(run_dir)
    _, _, parsed = _read(predictor, source, labelled=True)
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
    out = run_dir / "evaluations" / source.stem
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", results)
    lines = [
        f"# evaluation on {source.name}",
        "",
        f"model: {predictor.family}, {len(y)} rows, {len(parsed.errors)} row problems",
        "",
    ]
    lines += ["| metric | value |", "|---|---|"]
    lines += [f"| {k} | {results[k]:.4f} |" for k in ("roc_auc", "accuracy", "f1", "cost_per_row")]
    write_text(out / "report.md", "\n".join(lines) + "\n")
    get_console().print(
        f"[bold green]{source.name}[/]: ROC-AUC {results['roc_auc']:.4f}, accuracy {results['accuracy']:.4f}, "
        f"cost/row {results['cost_per_row']:.4f} at threshold {predictor.threshold:.3f} ({len(y)} rows); "
        f"report in {out}"
    )
    return results
