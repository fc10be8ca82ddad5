"""`TokenClassifier`: a finished NER run as an estimator — load it, predict entity spans on raw text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from tuneforge.data.tags import split_words
from tuneforge.errors import RunError
from tuneforge.export import load_model, saved_dir
from tuneforge.rundir import read_json
from tuneforge.tasks.token_classification import TokenClassification, build_tagger, spans_of

__all__ = ["TokenClassifier"]

Span = dict[str, Any]  # {"start", "end", "text", "label", "score"}


class TokenClassifier:
    """A trained NER model read from its run directory. Spans are character offsets of the raw input, whatever
    the tokenizer did: `text[span["start"]:span["end"]] == span["text"]`.

    >>> ner = TokenClassifier.load("runs/ner-demo")  # doctest: +SKIP
    >>> ner.predict(["张伟在北京下单了订单 A1029"])[0][:2]  # doctest: +SKIP
    [{'start': 0, 'end': 2, 'text': '张伟', 'label': 'PER', 'score': 0.98},
     {'start': 3, 'end': 5, 'text': '北京', 'label': 'CITY', 'score': 0.97}]
    """

    def __init__(self, task: TokenClassification, model: torch.nn.Module, batch_size: int = 64) -> None:
        self.task, self.model, self.batch_size = task, model, batch_size
        self.labels_ = sorted({tag[2:] for tag in task.labels if tag != "O"})

    @classmethod
    def load(cls, run_dir: str | Path, *, batch_size: int = 64) -> TokenClassifier:
        from transformers import AutoTokenizer

        run_dir = Path(run_dir)
        manifest = read_json(run_dir / "manifest.json")
        if manifest.get("task") != "token-classification":
            raise RunError(f"{run_dir} holds a '{manifest.get('task')}' run, not a token classifier (NER)")
        model = load_model(run_dir, manifest, lambda path: build_tagger(path, manifest["labels"]))
        tokenizer = AutoTokenizer.from_pretrained(saved_dir(run_dir, manifest))
        task = TokenClassification(tokenizer, manifest["labels"], manifest["max_length"], manifest.get("stride"))
        return cls(task, model, batch_size)

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
