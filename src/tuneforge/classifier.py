"""`TextClassifier`: a finished run as an estimator — load it, predict labels and probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tuneforge.errors import RunError
from tuneforge.export import load_model, saved_dir
from tuneforge.rundir import read_json
from tuneforge.tasks.text_classification import TextClassification, batched_logits, build_classifier

__all__ = ["Prediction", "TextClassifier"]


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float  # probability of `label`
    probabilities: dict[str, float]


class TextClassifier:
    """A trained text classifier read from its run directory.

    >>> clf = TextClassifier.load("runs/demo")  # doctest: +SKIP
    >>> clf.predict(["Where is my parcel?"])[0].label  # doctest: +SKIP
    'delivery'
    """

    def __init__(self, task: TextClassification, model: torch.nn.Module, batch_size: int = 64) -> None:
        self.task, self.model, self.batch_size = task, model, batch_size
        self.labels_ = task.labels

    @classmethod
    def load(cls, run_dir: str | Path, *, batch_size: int = 64) -> TextClassifier:
        from transformers import AutoTokenizer

        from tuneforge.fewshot import FEW_SHOT

        run_dir = Path(run_dir)
        manifest = read_json(run_dir / "manifest.json")
        if manifest.get("task") != "text-classification":
            raise RunError(f"{run_dir} holds a '{manifest.get('task')}' run, not a text classifier")
        if few_shot := FEW_SHOT.get(manifest.get("method", "full")):  # zero-shot by embedding or LLM, SetFit
            return cls(*few_shot.load(run_dir, manifest), batch_size)
        # model/ (full fine-tuning) or base model + adapter/ (every other method): see export/saved.py
        pooling = manifest.get("pooling", "cls")  # runs from before pooling existed read [CLS]
        model = load_model(run_dir, manifest, lambda path: build_classifier(path, manifest["labels"], pooling))
        tokenizer = AutoTokenizer.from_pretrained(saved_dir(run_dir, manifest))
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        task = TextClassification(tokenizer, labels, manifest["max_length"], None, pooling)
        return cls(task, model.eval(), batch_size)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, one row per text, columns in the order of `labels_`."""
        features = self.task.encode(list(texts))
        probabilities = np.zeros((len(features), len(self.labels_)), dtype=np.float32)
        for indices, _, logits in batched_logits(
            self.model, features, pad_id=self.task.pad_id, batch_size=self.batch_size
        ):
            probabilities[indices] = logits.softmax(-1).numpy()
        return probabilities

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """The most likely label of each text, with its probability and the full distribution."""
        results = []
        for row in self.predict_proba(texts):
            best = int(row.argmax())
            distribution = {label: float(p) for label, p in zip(self.labels_, row, strict=True)}
            results.append(Prediction(self.labels_[best], float(row[best]), distribution))
        return results
