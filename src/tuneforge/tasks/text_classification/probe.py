"""Linear-probe start for a classifier's head (LP-FT: Kumar et al. 2022, "Fine-Tuning can Distort Pretrained
Features and Underperform Out-of-Distribution").

A fresh head is random, so the first steps of fine-tuning send large, noisy gradients into pretrained features
that were already good. `head_init: probe` first fits the head by logistic regression on what it reads from the
untouched model (the pooler output), then fine-tunes everything from there. The regularisation strength is
picked on the validation split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from rich import get_console
from transformers.modeling_outputs import SequenceClassifierOutput

from tuneforge.data import Example
from tuneforge.embedding import logistic_head
from tuneforge.errors import ConfigError
from tuneforge.tasks.text_classification.task import TextClassification, batched_logits
from tuneforge.training.progress import progress

__all__ = ["probe_head"]

C_GRID = (0.1, 1.0, 10.0)  # inverse regularisation strengths tried when there is a validation split


def probe_head(
    model: torch.nn.Module,
    task: TextClassification,
    train: Sequence[Example],
    validation: Sequence[Example],
    *,
    batch_size: int,
) -> dict[str, Any]:
    """Set `model.classifier` to a logistic regression on the frozen model's pooled features; returns what was
    chosen (C) and the probe's own validation accuracy, for the run's metrics."""
    head, pooler = getattr(model, "classifier", None), getattr(model.base_model, "pooler", None)
    if not isinstance(head, torch.nn.Linear) or pooler is None:
        raise ConfigError(
            f"head_init: probe needs a BERT-style classifier (a pooler, then one linear layer); "
            f"{type(model).__name__} has another head; use head_init: random"
        )
    was_training = model.training
    x, y = _features(model, task, train, batch_size, "probe: features of train")
    n_labels = len(task.labels)
    if not validation:
        get_console().print(f"probe: fitting the head ({len(y):,} texts)…", markup=False, highlight=False)
        fitted, c, accuracy = logistic_head(x, y, n_labels, 1.0), 1.0, None
    else:
        x_val, y_val = _features(model, task, validation, batch_size, "probe: features of validation")

        def accuracy_of(linear: torch.nn.Linear) -> float:
            with torch.no_grad():
                return float((linear(torch.from_numpy(x_val)).argmax(-1).numpy() == y_val).mean())

        grid = progress(C_GRID, len(C_GRID), f"probe: fitting the head ({len(y):,} texts, C in {C_GRID})")
        fits = [(logistic_head(x, y, n_labels, c), c) for c in grid]
        accuracy, c, fitted = max(((accuracy_of(f), c, f) for f, c in fits), key=lambda scored: scored[0])
    model.train(was_training)
    with torch.no_grad():
        head.weight.copy_(fitted.weight)
        head.bias.copy_(fitted.bias)
    return {"c": c, "validation_accuracy": accuracy}


def _features(
    model: torch.nn.Module, task: TextClassification, examples: Sequence[Example], batch_size: int, description: str
) -> tuple[np.ndarray, np.ndarray]:
    """The head's input (pooler output) for every example, and its label index."""
    features = task.encode_examples(examples)
    x = np.zeros((len(features), model.config.hidden_size), dtype=np.float32)
    pooled = _PooledOutput(model)
    described = f"{description} ({len(features):,} texts)"
    batches = batched_logits(pooled, features, pad_id=task.pad_id, batch_size=batch_size, description=described)
    for indices, _, rows in batches:
        x[indices] = rows.numpy()
    return x, np.array([f["label"] for f in features])


class _PooledOutput(torch.nn.Module):
    """The classifier without its last linear layer: `batched_logits` then yields the features the head reads."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SequenceClassifierOutput:
        out = self.model.base_model(input_ids=input_ids, attention_mask=attention_mask)
        return SequenceClassifierOutput(logits=out.pooler_output)
