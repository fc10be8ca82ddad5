"""Prediction and evaluation of a finished NER run on texts and files, for the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import get_console
from rich.table import Table as RichTable

from tuneforge.config import DataConfig, SplitConfig
from tuneforge.data.prepare_ner import read_tagged
from tuneforge.errors import DataError
from tuneforge.predict import read_rows_to_predict, run_config, write_records
from tuneforge.rundir import write_json, write_text
from tuneforge.tagger import TokenClassifier

__all__ = ["evaluate_span_file", "predict_span_file", "predict_span_texts"]


def predict_span_texts(run_dir: Path, texts: list[str]) -> None:
    predictions = TokenClassifier.load(run_dir).predict(texts)
    table = RichTable("text", "entity", "label", "start-end", "score")
    for text, spans in zip(texts, predictions, strict=True):
        if not spans:
            table.add_row(text, "-", "-", "-", "-")
        for i, span in enumerate(spans):
            where = f"{span['start']}-{span['end']}"
            table.add_row(text if i == 0 else "", span["text"], span["label"], where, f"{span['score']:.3f}")
    get_console().print(table)


def predict_span_file(run_dir: Path, source: Path, output: Path, *, text_column: str | None = None) -> None:
    """Write `output` (.jsonl, or .csv with the spans as a JSON string): every input column plus `entities`."""
    columns, rows, texts = read_rows_to_predict(run_dir, source, text_column)
    predictions = TokenClassifier.load(run_dir).predict(texts)
    as_text = output.suffix.lower() != ".jsonl"
    records = [
        {**r, "entities": json.dumps(spans, ensure_ascii=False) if as_text else spans}
        for r, spans in zip(rows, predictions, strict=True)
    ]
    write_records(output, [*columns, "entities"], records)
    get_console().print(f"{len(records)} texts tagged, {sum(map(len, predictions))} entities written to {output}")


def evaluate_span_file(run_dir: Path, source: Path) -> dict[str, Any]:
    """Evaluate on a CoNLL or span-JSONL file read as in training; bad sentences are skipped and listed."""
    cfg = run_config(run_dir)
    tagger = TokenClassifier.load(run_dir)
    data_cfg = DataConfig(
        train=source,
        text_column=cfg.data.text_column,
        label_column=cfg.data.label_column,
        labels=tagger.labels_,
        split=SplitConfig(validation=0, test=0),
        on_error="skip",
        ner=cfg.data.ner,
    )
    file = read_tagged(source, data_cfg)
    if not file.sentences:
        raise DataError(f"{source}: no usable sentence ({len(file.errors)} problems)", [str(e) for e in file.errors])
    results = tagger.task.evaluate_examples(tagger.model, file.sentences, batch_size=64)
    results["rejected_rows"] = [str(e) for e in file.errors]
    out = run_dir / "evaluations" / source.stem
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", {"test": results, "labels": tagger.labels_})
    write_text(out / "report.md", tagger.task.render_report(f"evaluation on {source.name}", {"test": results}))
    get_console().print(
        f"[bold green]{source.name}[/]: {tagger.task.headline(results)} ({len(file.sentences)} sentences, "
        f"{len(file.errors)} problems); report in {out}"
    )
    return results
