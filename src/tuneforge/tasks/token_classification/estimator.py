"""`TokenClassifier`: a finished NER run as an estimator — load it, predict entity spans on raw text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from rich import get_console
from rich.table import Table as RichTable

from tuneforge.data.records import output_columns, read_rows, write_records
from tuneforge.errors import DataError, RunError
from tuneforge.rundir import read_manifest, run_config, write_evaluation
from tuneforge.rundir.saved import load_model, saved_dir
from tuneforge.tasks.token_classification.prepare import read_tagged
from tuneforge.tasks.token_classification.tags import split_words
from tuneforge.tasks.token_classification.task import TokenClassification, build_tagger, spans_of

__all__ = ["TokenClassifier"]

Span = dict[str, Any]  # {"start", "end", "text", "label", "score"}


class TokenClassifier:
    """A trained NER model read from its run directory. Spans are character offsets of the raw input, whatever
    the tokenizer did: `text[span["start"]:span["end"]] == span["text"]`. Preprocessing is training's own:
    `TokenClassification.encode` applies NFKC to each word after the raw text is split, so full-width text tags as
    its half-width form and offsets never move (data.clean.redact_pii, which would move them, is refused in config).

    >>> ner = TokenClassifier.load("runs/ner-demo")  # doctest: +SKIP
    >>> ner.predict(["张伟在北京下单了订单 A1029"])[0][:2]  # doctest: +SKIP
    [{'start': 0, 'end': 2, 'text': '张伟', 'label': 'PER', 'score': 0.98},
     {'start': 3, 'end': 5, 'text': '北京', 'label': 'CITY', 'score': 0.97}]
    """

    def __init__(
        self, task: TokenClassification, model: torch.nn.Module, batch_size: int = 64, run_dir: Path | None = None
    ) -> None:
        self.task, self.model, self.batch_size, self.run_dir = task, model, batch_size, run_dir
        self.tokenizer = task.tokenizer
        self.labels_ = sorted({tag[2:] for tag in task.labels if tag != "O"})

    @classmethod
    def load(cls, run_dir: str | Path, *, batch_size: int = 64) -> TokenClassifier:
        from transformers import AutoTokenizer

        run_dir = Path(run_dir)
        manifest = read_manifest(run_dir, "token-classification")
        model = load_model(run_dir, manifest, lambda path: build_tagger(path, manifest["labels"]))
        tokenizer = AutoTokenizer.from_pretrained(saved_dir(run_dir, manifest))
        task = TokenClassification(tokenizer, manifest["labels"], manifest["max_length"], manifest.get("stride"))
        return cls(task, model, batch_size, run_dir)

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        """Entity spans of each text: start and end character offsets, text, label (entity type) and score."""
        offsets = [split_words(text) for text in texts]
        words = [[text[s:e] for s, e in spans] for text, spans in zip(texts, offsets, strict=True)]
        features = self.task.encode(words)
        decoded, _ = self.task.predict_tags(self.model, features, batch_size=self.batch_size)
        results = []
        for i, text in enumerate(texts):
            tags, scores = decoded.get(i, (["O"] * len(offsets[i]), [0.0] * len(offsets[i])))
            results.append(spans_of(text, offsets[i], tags, scores))
        return results

    def preprocess(self, texts: Sequence[str]) -> list[str]:
        """The texts as they are: spans index the raw text, and its words are normalised one by one (NFKC, as in
        training) inside `encode`, which keeps every offset."""
        return list(texts)

    def predict_json(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """`predict` as JSON-able objects: {"entities": spans} per text."""
        return [{"entities": spans} for spans in self.predict(texts)]

    def show(self, texts: Sequence[str]) -> None:
        """Print each text's entities with their offsets and scores."""
        predictions = self.predict(texts)
        table = RichTable("text", "entity", "label", "start-end", "score")
        for text, spans in zip(texts, predictions, strict=True):
            if not spans:
                table.add_row(text, "-", "-", "-", "-")
            for i, span in enumerate(spans):
                where = f"{span['start']}-{span['end']}"
                table.add_row(text if i == 0 else "", span["text"], span["label"], where, f"{span['score']:.3f}")
        get_console().print(table)

    def predict_file(self, source: Path, output: Path, *, text_column: str | None = None) -> None:
        """Write `output` (.jsonl, or .csv with the spans as a JSON string): every input column plus `entities`."""
        columns, rows, texts = read_rows(source, text_column or run_config(self._run_dir()).data.text_column)
        header = output_columns(source, columns, ["entities"])
        predictions = self.predict(texts)
        as_text = output.suffix.lower() != ".jsonl"
        records = [
            {**r, "entities": json.dumps(spans, ensure_ascii=False) if as_text else spans}
            for r, spans in zip(rows, predictions, strict=True)
        ]
        write_records(output, header, records)
        get_console().print(f"{len(records)} texts tagged, {sum(map(len, predictions))} entities written to {output}")

    def evaluate_file(self, source: Path) -> dict[str, Any]:
        """Entity scores on a CoNLL or span-JSONL file read as in training; bad sentences are skipped and listed."""
        run_dir = self._run_dir()
        cfg = run_config(run_dir)
        file = read_tagged(source, cfg.data.for_labelled_file(source, self.labels_))
        if not file.sentences:
            raise DataError(
                f"{source}: no usable sentence ({len(file.errors)} problems)", [str(e) for e in file.errors]
            )
        results = self.task.evaluate_examples(self.model, file.sentences, batch_size=64)
        results["rejected_rows"] = [str(e) for e in file.errors]
        report = self.task.render_report(f"evaluation on {source.name}", {"test": results})
        out = write_evaluation(run_dir, source, {"test": results, "labels": self.labels_}, report)
        get_console().print(
            f"[bold green]{source.name}[/]: {self.task.headline(results)} ({len(file.sentences)} sentences, "
            f"{len(file.errors)} problems); report in {out}"
        )
        return results

    def _run_dir(self) -> Path:
        if self.run_dir is None:
            raise RunError("this tagger was not loaded from a run directory; use TokenClassifier.load(run_dir)")
        return self.run_dir
