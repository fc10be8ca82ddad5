"""The served models, keyed by name. Each is loaded through its task's row in TASKS: an estimator whose
`predict` answers text or record requests, or, for tasks that take chats, a chat model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.errors import RunError
from tuneforge.tasks import task_of
from tuneforge.tasks.base import InputKind

__all__ = ["ModelRegistry", "ServedModel", "load_model", "parse_model_arg"]

Predictor = Callable[[list[Any]], list[Any]]  # a batch of inputs -> one JSON-able result per input


def parse_model_arg(arg: str) -> tuple[str, Path]:
    """`name=path` or `path` (named after its folder)."""
    name, _, path = arg.rpartition("=")
    return (name or Path(path).name), Path(path)


@dataclass(frozen=True)
class ServedModel:
    name: str
    task: str
    path: Path
    inputs: InputKind  # texts are micro-batched; records run per request; chats stream
    predictor: Predictor | None = None
    preprocess: Callable[[list[Any]], list[Any]] | None = None  # what the model sees of each input (logged)
    chat: Any = None  # a ChatModel, for tasks whose inputs are chats
    labels: tuple[str, ...] = ()  # the estimator's `labels_`: what label feedback may say; () for tasks without
    version: str | None = None  # the registry version served (X-Model-Version); None outside a registry


def load_model(name: str, path: Path, version: str | None = None) -> ServedModel:
    spec, task = task_of(path)
    estimator = spec.load(path)
    if spec.inputs == "chats":
        chat = estimator.for_serving()  # type: ignore[attr-defined]
        return ServedModel(name, task, path, spec.inputs, chat=chat, version=version)
    return ServedModel(
        name,
        task,
        path,
        spec.inputs,
        predictor=estimator.predict_json,
        preprocess=estimator.preprocess,
        labels=tuple(getattr(estimator, "labels_", ())),
        version=version,
    )


class ModelRegistry:
    """Name -> loaded model. `swap` replaces a model atomically: requests already holding the old one finish on it."""

    def __init__(self) -> None:
        self._models: dict[str, ServedModel] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self._models)

    def get(self, name: str) -> ServedModel | None:
        return self._models.get(name)

    def swap(self, model: ServedModel) -> None:
        with self._lock:
            old = self._models.get(model.name)
            if old is not None and old.inputs != model.inputs:
                raise RunError(f"cannot reload '{model.name}' ({old.task}) with a '{model.task}' model")
            self._models[model.name] = model
