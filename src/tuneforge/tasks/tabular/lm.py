"""The language-model family: each row written as text ("age years: 35; purpose: car (new); ...") and the
pretrained encoder fine-tuned on it with the text-classification task and our training loop, unchanged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from accelerate import Accelerator
from accelerate.utils import set_seed

from tuneforge.config import Config, TrainConfig
from tuneforge.config.tabular import TabularConfig
from tuneforge.methods import apply_method
from tuneforge.methods.blocks import FreezeMethod, FullMethod
from tuneforge.models import resolve_model
from tuneforge.rundir.saved import save_model
from tuneforge.tasks.tabular.family_parts import loop_config
from tuneforge.tasks.tabular.schema import Schema
from tuneforge.tasks.text_classification.estimator import TextClassifier
from tuneforge.tasks.text_classification.task import TextClassification, build_classifier
from tuneforge.training.loop import fit

__all__ = ["TextLM", "serialise"]


def serialise(frame: pd.DataFrame, schema: Schema, value_names: dict[str, dict[str, str]]) -> list[str]:
    """One text per row: "name: value" pairs in schema order; coded categories replaced by their words."""
    parts = []
    for column in schema.columns:
        label = column.name.replace("_", " ")
        names = value_names.get(column.name, {})
        if column.kind == "numeric":
            parts.append([f"{label}: {v:g}" for v in frame[column.name]])
        else:
            parts.append([f"{label}: {names.get(v, v)}" for v in frame[column.name]])
    return ["; ".join(cells) for cells in zip(*parts, strict=True)]


class TextLM:
    def __init__(self, schema: Schema, cfg: Config) -> None:
        self.schema, self.base_model = schema, cfg.model
        self.tabular = cfg.tabular or TabularConfig()
        self.classifier_: TextClassifier | None = None

    def _train_config(self) -> TrainConfig:
        s = self.tabular.lm
        return loop_config(self.tabular.seed, s, warmup_ratio=0.1, max_length=s.max_length)

    def texts(self, frame: pd.DataFrame) -> list[str]:
        return serialise(frame, self.schema, self.tabular.value_names)

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> TextLM:
        from transformers import AutoTokenizer

        set_seed(self.tabular.seed)
        path = resolve_model(self.base_model)
        task = TextClassification(
            AutoTokenizer.from_pretrained(path), self.schema.classes, self.tabular.lm.max_length, None
        )
        model = task.build_model(path)
        if self.tabular.lm.freeze_layers is not None:  # no backward pass through frozen layers: cheaper on CPU
            model = apply_method(model, FreezeMethod(name="freeze", freeze_layers=self.tabular.lm.freeze_layers))
        labels = [self.schema.classes[i] for i in y]
        accelerator = Accelerator(cpu=True)
        with tempfile.TemporaryDirectory(prefix="tuneforge-lm-") as ckpt:
            fit(
                model,
                task.encode(self.texts(frame), labels),
                collate=task.collate,
                loss_fn=task.loss,
                evaluate=None,
                cfg=self._train_config(),
                ckpt_dir=Path(ckpt),
                accelerator=accelerator,
            )
        self.classifier_ = TextClassifier(task, accelerator.unwrap_model(model).eval())
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        assert self.classifier_ is not None, "fit or load first"
        return self.classifier_.predict_proba(self.texts(frame))[:, 1]

    def save(self, folder: Path) -> None:
        assert self.classifier_ is not None, "fit first"
        folder.mkdir(parents=True, exist_ok=True)
        save_model(self.classifier_.model, self.classifier_.task.tokenizer, folder, FullMethod(), self.base_model)

    @classmethod
    def load(cls, folder: Path, schema: Schema, cfg: Config) -> TextLM:
        from transformers import AutoTokenizer

        family = cls(schema, cfg)
        path = str(folder / "model")
        task = TextClassification(
            AutoTokenizer.from_pretrained(path), schema.classes, family.tabular.lm.max_length, None
        )
        family.classifier_ = TextClassifier(task, build_classifier(path, schema.classes).eval())
        return family
