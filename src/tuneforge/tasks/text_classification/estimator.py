"""`TextClassifier`: a finished run as an estimator — load it, predict labels and probabilities."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich import get_console
from rich.table import Table as RichTable

from tuneforge.data import prepare_data
from tuneforge.data.preprocess import TextPreprocessing
from tuneforge.data.records import output_columns, read_rows, write_records
from tuneforge.errors import RunError
from tuneforge.evaluate.report import render_report
from tuneforge.rundir import read_manifest, run_config, write_evaluation
from tuneforge.rundir.saved import load_model, saved_dir
from tuneforge.tasks.text_classification.task import TextClassification, batched_logits, build_classifier
from tuneforge.training.task import Feature

__all__ = ["Prediction", "TextClassifier"]


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float  # probability of `label`
    probabilities: dict[str, float]


class TextClassifier:
    """A trained text classifier read from its run directory. Every text is first cleaned as the run's training
    texts were (`preprocess`: data.clean normalisation, then PII redaction), so a full-width or PII-bearing text
    predicts as its cleaned form does.

    >>> clf = TextClassifier.load("runs/demo")  # doctest: +SKIP
    >>> clf.predict(["Where is my parcel?"])[0].label  # doctest: +SKIP
    'delivery'
    """

    def __init__(
        self,
        task: TextClassification,
        model: torch.nn.Module,
        batch_size: int = 64,
        run_dir: Path | None = None,
        preprocessing: TextPreprocessing | None = None,
    ) -> None:
        self.task, self.model, self.batch_size, self.run_dir = task, model, batch_size, run_dir
        self.preprocessing = preprocessing or TextPreprocessing()
        self.tokenizer = task.tokenizer
        self.labels_ = task.labels

    @classmethod
    def load(cls, run_dir: str | Path, *, batch_size: int = 64) -> TextClassifier:
        from transformers import AutoTokenizer

        from tuneforge.tasks.text_classification.fewshot import FEW_SHOT

        run_dir = Path(run_dir)
        manifest = read_manifest(run_dir, "text-classification")
        # The run records its cleaning in config.yaml (data.clean), the config its training data went through.
        preprocessing = TextPreprocessing.of(run_config(run_dir).data.clean)
        if few_shot := FEW_SHOT.get(manifest.get("method", "full")):  # zero-shot by embedding or LLM, SetFit
            return cls(*few_shot.load(run_dir, manifest), batch_size, run_dir, preprocessing)
        # model/ (full fine-tuning) or base model + adapter/ (every other method): see rundir/saved.py
        pooling = manifest.get("pooling", "cls")  # runs from before pooling existed read [CLS]
        model = load_model(run_dir, manifest, lambda path: build_classifier(path, manifest["labels"], pooling))
        tokenizer = AutoTokenizer.from_pretrained(saved_dir(run_dir, manifest))
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        task = TextClassification(tokenizer, labels, manifest["max_length"], None, pooling)
        return cls(task, model.eval(), batch_size, run_dir, preprocessing)

    def preprocess(self, texts: Sequence[str]) -> list[str]:
        """The texts as the model sees them: cleaned as the run's training texts were."""
        return [self.preprocessing(text) for text in texts]

    def predict_proba(self, texts: Sequence[str], *, windows: bool = False) -> np.ndarray:
        """Class probabilities, one row per text (preprocessed first), columns in the order of `labels_`.

        A text longer than the run's max_length tokens is cut to its first max_length tokens, unless `windows`:
        then it is read in overlapping windows of max_length tokens (`TextClassification.encode_windows`) and its
        probabilities are the mean of its windows'. The mean, because each window is evidence about the whole
        text and none is more telling than another; a window that reads as confident does not outvote the others
        as a max would. The run trained on first windows only, so later windows, which start mid-text, are read
        by a model that never saw such texts: the mean is an approximation. A text that fits is one window, and
        its row is the one `windows=False` gives, bit for bit.

        >>> clf = TextClassifier.load("runs/reviews")  # doctest: +SKIP
        >>> clf.predict_proba([long_review], windows=True).shape  # doctest: +SKIP
        (1, 2)
        """
        cleaned = self.preprocess(texts)
        if not windows:
            return self._probabilities(self.task.encode(cleaned))
        per_text = self.task.encode_windows(cleaned)
        # First windows are batched exactly as without windows; only the later windows of long texts are added.
        probabilities = self._probabilities([w[0] for w in per_text])
        owners = np.array([i for i, w in enumerate(per_text) for _ in w[1:]], dtype=np.int64)
        if owners.size:
            sums = probabilities.astype(np.float64)
            np.add.at(sums, owners, self._probabilities([x for w in per_text for x in w[1:]]))
            long = np.unique(owners)
            counts = np.array([len(per_text[i]) for i in long], dtype=np.float64)
            probabilities[long] = sums[long] / counts[:, None]
        return probabilities

    def predict(self, texts: Sequence[str], *, windows: bool = False) -> list[Prediction]:
        """The most likely label of each text, with its probability and the full distribution; `windows`: read
        long texts in windows (see `predict_proba`)."""
        results = []
        for row in self.predict_proba(texts, windows=windows):
            best = int(row.argmax())
            distribution = {label: float(p) for label, p in zip(self.labels_, row, strict=True)}
            results.append(Prediction(self.labels_[best], float(row[best]), distribution))
        return results

    def predict_json(self, texts: Sequence[str], *, windows: bool = False) -> list[dict[str, Any]]:
        """`predict` as JSON-able objects: label, score, probabilities."""
        return [dataclasses.asdict(p) for p in self.predict(texts, windows=windows)]

    def truncated(self, texts: Sequence[str]) -> int:
        """How many texts (preprocessed first) are longer than the run's max_length tokens, so that the model sees
        only their first max_length tokens; `predict` cuts them silently (unless `windows`), `show` and
        `predict_file` warn."""
        if not texts:
            return 0
        ids = self.tokenizer(self.preprocess(texts), add_special_tokens=True)["input_ids"]
        return sum(len(x) > self.task.max_length for x in ids)

    def show(self, texts: Sequence[str], *, windows: bool = False) -> None:
        """Print each text with its label and probability; `windows`: read long texts in windows."""
        table = RichTable("text", "label", "score")
        for text, prediction in zip(texts, self.predict(texts, windows=windows), strict=True):
            table.add_row(text, prediction.label, f"{prediction.score:.3f}")
        get_console().print(table)
        if not windows:
            self._warn_truncated(texts)

    def predict_file(
        self, source: Path, output: Path, *, text_column: str | None = None, windows: bool = False
    ) -> None:
        """Write `output` (.csv or .jsonl): every input column plus `label` and `score`; `windows`: read long
        texts in windows."""
        column = text_column or run_config(self._run_dir()).data.text_column
        columns, rows, texts = read_rows(source, column)
        header = output_columns(source, columns, ["label", "score"])
        predictions = self.predict(texts, windows=windows)
        records = [{**r, "label": p.label, "score": round(p.score, 6)} for r, p in zip(rows, predictions, strict=True)]
        write_records(output, header, records)
        get_console().print(f"{len(records)} predictions written to [bold]{output}[/]")
        if not windows:
            self._warn_truncated(texts)

    def evaluate_file(self, source: Path) -> dict[str, Any]:
        """Scores on a labelled file cleaned and validated as in training; bad rows are skipped and listed."""
        run_dir = self._run_dir()
        cfg = run_config(run_dir)
        data_cfg = cfg.data.for_labelled_file(source, self.labels_)
        prepared = prepare_data(data_cfg, max_length=cfg.train.max_length, max_tokens=cfg.max_tokens)
        examples = prepared.train
        results = self.task.evaluate_examples(self.model, examples, batch_size=64)
        results["rejected_rows"] = [str(r) for r in prepared.rejected]
        report = render_report(f"evaluation on {source.name}", {"test": results})
        out = write_evaluation(run_dir, source, {"test": results, "labels": self.labels_}, report)
        get_console().print(
            f"[bold green]{source.name}[/]: accuracy {results['accuracy']:.4f}, macro F1 {results['macro_f1']:.4f} "
            f"({len(examples)} texts, {len(prepared.rejected)} rejected); report in {out}"
        )
        return results

    def _probabilities(self, features: Sequence[Feature]) -> np.ndarray:
        probabilities = np.zeros((len(features), len(self.labels_)), dtype=np.float32)
        for indices, _, logits in batched_logits(
            self.model, features, pad_id=self.task.pad_id, batch_size=self.batch_size
        ):
            probabilities[indices] = logits.softmax(-1).numpy()
        return probabilities

    def _warn_truncated(self, texts: Sequence[str]) -> None:
        # Without windows, classification reads one window per text: say how many were cut.
        if cut := self.truncated(texts):
            get_console().print(
                f"[yellow]warning:[/] {cut} of {len(texts)} texts were longer than max_length "
                f"{self.task.max_length} tokens and were cut; the model saw only their first {self.task.max_length} "
                "tokens (predict --windows reads all of them; or retrain with a larger train.max_length)"
            )

    def _run_dir(self) -> Path:
        if self.run_dir is None:
            raise RunError("this classifier was not loaded from a run directory; use TextClassifier.load(run_dir)")
        return self.run_dir
