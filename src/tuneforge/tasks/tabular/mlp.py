"""The MLP family: one-hot and standardised inputs, a small PyTorch network trained by our loop (training/loop.py)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed

from tuneforge.config import Config, TrainConfig
from tuneforge.config.tabular import MlpSettings, TabularConfig
from tuneforge.tasks.tabular.family_parts import loop_config, one_hot_scaled, one_thread
from tuneforge.tasks.tabular.persist import load_sklearn, save_sklearn
from tuneforge.tasks.tabular.schema import Schema
from tuneforge.training.checkpoint import load_weights, save_weights
from tuneforge.training.loop import fit

__all__ = ["TorchMLP", "build_network"]


def build_network(inputs: int, settings: MlpSettings) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for width in settings.hidden:
        layers += [torch.nn.Linear(inputs, width), torch.nn.ReLU(), torch.nn.Dropout(settings.dropout)]
        inputs = width
    return torch.nn.Sequential(*layers, torch.nn.Linear(inputs, 2))


def _collate(features: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
    # The loop sizes batches by the length of `input_ids`; here it holds a row's input vector.
    batch = {"input_ids": torch.tensor(np.array([f["input_ids"] for f in features]), dtype=torch.float)}
    if "label" in features[0]:
        batch["labels"] = torch.tensor([f["label"] for f in features])
    return batch


def _loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(model(batch["input_ids"]), batch["labels"])


class TorchMLP:
    def __init__(self, schema: Schema, cfg: Config) -> None:
        self.schema = schema
        self.tabular = cfg.tabular or TabularConfig()
        self.settings = self.tabular.mlp
        self.preprocess_: Any = None
        self.network_: torch.nn.Sequential | None = None

    def _train_config(self) -> TrainConfig:
        s = self.settings
        return loop_config(self.tabular.seed, s, weight_decay=s.weight_decay, warmup_ratio=0.0, mixed_precision="no")

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> TorchMLP:
        set_seed(self.tabular.seed)
        self.preprocess_ = one_hot_scaled(self.schema).fit(frame)
        inputs = self.preprocess_.transform(frame).astype(np.float32)
        self.network_ = build_network(inputs.shape[1], self.settings)
        features = [{"input_ids": x, "label": int(label)} for x, label in zip(inputs, y, strict=True)]
        with tempfile.TemporaryDirectory(prefix="tuneforge-mlp-") as ckpt, one_thread():
            fit(
                self.network_,
                features,
                collate=_collate,
                loss_fn=_loss,
                evaluate=None,
                cfg=self._train_config(),
                ckpt_dir=Path(ckpt),
                accelerator=Accelerator(cpu=True),
            )
        self.network_.eval()
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        assert self.network_ is not None, "fit or load first"
        inputs = torch.tensor(self.preprocess_.transform(frame).astype(np.float32))
        with torch.inference_mode(), one_thread():
            return self.network_(inputs).softmax(-1)[:, 1].numpy()

    def save(self, folder: Path) -> None:
        assert self.network_ is not None, "fit first"
        folder.mkdir(parents=True, exist_ok=True)
        save_sklearn(self.preprocess_, folder / "preprocess.skops")
        save_weights(self.network_, folder / "mlp.safetensors")
        inputs = self.network_[0].in_features
        (folder / "mlp.json").write_text(json.dumps({"inputs": inputs, **self.settings.model_dump()}))

    @classmethod
    def load(cls, folder: Path, schema: Schema, cfg: Config) -> TorchMLP:
        family = cls(schema, cfg)
        family.preprocess_ = load_sklearn(folder / "preprocess.skops")
        saved = json.loads((folder / "mlp.json").read_text())
        family.network_ = build_network(saved.pop("inputs"), MlpSettings(**saved))
        load_weights(family.network_, folder / "mlp.safetensors")
        family.network_.eval()
        return family
