"""Prediction and evaluation of a finished run on texts and files, for the CLI."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import yaml
from rich import get_console
from rich.table import Table as RichTable

from tuneforge.classifier import TextClassifier
from tuneforge.config import Config, DataConfig, SplitConfig
from tuneforge.data import prepare_data, read_table
from tuneforge.errors import DataError
from tuneforge.evaluate.report import render_report
from tuneforge.rundir import read_json, write_json, write_text

__all__ = ["evaluate_file", "predict_file", "predict_texts", "read_rows_to_predict", "run_config", "write_records"]


def run_config(run_dir: Path) -> Config:
    """The resolved config a run was trained with (its data files need not exist any more)."""
    raw = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    return Config.model_validate(raw)


def _task(run_dir: Path) -> str | None:
    return read_json(run_dir / "manifest.json").get("task")


def predict_texts(run_dir: Path, texts: list[str]) -> None:
    task = _task(run_dir)
    if task == "tabular-classification":
        raise DataError(f"{run_dir} scores table rows, not texts: give a CSV, JSONL or Parquet file with --input")
    if task == "recommendation":
        from tuneforge.recommend.commands import predict_records

        return predict_records(run_dir, [{"text": t} for t in texts])
    if task == "causal-lm-sft":
        return _print_answers(run_dir, texts)
    if task == "token-classification":
        from tuneforge.predict_spans import predict_span_texts

        return predict_span_texts(run_dir, texts)
    predictions = TextClassifier.load(run_dir).predict(texts)
    table = RichTable("text", "label", "score")
    for text, prediction in zip(texts, predictions, strict=True):
        table.add_row(text, prediction.label, f"{prediction.score:.3f}")
    get_console().print(table)


def _print_answers(run_dir: Path, questions: list[str]) -> None:
    from tuneforge.llm import ChatModel

    answers = ChatModel.load(run_dir).generate_batch([[{"role": "user", "content": q}] for q in questions])
    table = RichTable("question", "answer")
    for question, answer in zip(questions, answers, strict=True):
        table.add_row(question, answer)
    get_console().print(table)


def read_rows_to_predict(
    run_dir: Path, source: Path, text_column: str | None
) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """The columns and rows of an input file, and the texts to predict from `text_column` (default: the run's)."""
    column = text_column or run_config(run_dir).data.text_column
    table = read_table(source)
    if column not in table.columns:
        raise DataError(f"{source}: no column '{column}'; columns are {', '.join(table.columns)}; use --text-column")
    bad = [f"{source}:{row.line}: {row.error}" for row in table.rows if row.values is None]
    if bad:
        raise DataError(f"{source}: {len(bad)} unreadable row(s)", bad)
    rows = [row.values for row in table.rows if row.values is not None]
    return table.columns, rows, [str(r.get(column) or "") for r in rows]


def predict_file(run_dir: Path, source: Path, output: Path, *, text_column: str | None = None) -> None:
    """Write `output` (.csv or .jsonl): every input column plus `label` and `score` (NER: `entities`)."""
    task = _task(run_dir)
    if task == "tabular-classification":
        from tuneforge.tabular.files import predict_table_file

        return predict_table_file(run_dir, source, output)
    if task == "recommendation":
        from tuneforge.recommend.commands import recommend_file

        return recommend_file(run_dir, source, output, text_column)
    if task == "causal-lm-sft":
        from tuneforge.llm.files import generate_file

        generate_file(run_dir, source, output)
        return None
    if task == "token-classification":
        from tuneforge.predict_spans import predict_span_file

        return predict_span_file(run_dir, source, output, text_column=text_column)
    columns, rows, texts = read_rows_to_predict(run_dir, source, text_column)
    predictions = TextClassifier.load(run_dir).predict(texts)
    records = [{**r, "label": p.label, "score": round(p.score, 6)} for r, p in zip(rows, predictions, strict=True)]
    write_records(output, [*columns, "label", "score"], records)
    get_console().print(f"{len(records)} predictions written to [bold]{output}[/]")


def write_records(path: Path, columns: list[str], records: list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        if path.suffix.lower() == ".jsonl":
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        else:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(records)
    os.replace(tmp, path)


def evaluate_file(run_dir: Path, source: Path) -> dict[str, Any]:
    """Evaluate on a labelled file, cleaned and validated as in training (bad rows skipped and listed;
    chat files: as the run's data.on_error)."""
    task = _task(run_dir)
    if task == "causal-lm-sft":
        from tuneforge.llm.evaluate import evaluate_chat_file

        return evaluate_chat_file(run_dir, source)
    if task == "tabular-classification":
        from tuneforge.tabular.files import evaluate_table_file

        return evaluate_table_file(run_dir, source)
    if task == "recommendation":
        from tuneforge.recommend.commands import evaluate_interactions

        return evaluate_interactions(run_dir, source)
    if task == "token-classification":
        from tuneforge.predict_spans import evaluate_span_file

        return evaluate_span_file(run_dir, source)
    cfg = run_config(run_dir)
    classifier = TextClassifier.load(run_dir)
    data_cfg = DataConfig(
        train=source,
        text_column=cfg.data.text_column,
        label_column=cfg.data.label_column,
        labels=classifier.labels_,
        split=SplitConfig(validation=0, test=0),
        on_error="skip",
        clean=cfg.data.clean.model_copy(update={"dedup": False}),
    )
    prepared = prepare_data(data_cfg, max_length=cfg.train.max_length, max_tokens=cfg.max_tokens)
    examples = prepared.train
    results = classifier.task.evaluate_examples(classifier.model, examples, batch_size=64)
    results["rejected_rows"] = [str(r) for r in prepared.rejected]
    out = run_dir / "evaluations" / source.stem
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", {"test": results, "labels": classifier.labels_})
    write_text(out / "report.md", render_report(f"evaluation on {source.name}", {"test": results}))
    get_console().print(
        f"[bold green]{source.name}[/]: accuracy {results['accuracy']:.4f}, macro F1 {results['macro_f1']:.4f} "
        f"({len(examples)} texts, {len(prepared.rejected)} rejected); report in {out}"
    )
    return results
