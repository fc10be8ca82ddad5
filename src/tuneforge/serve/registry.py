"""The served models, keyed by name. A loader per task turns a run dir into a predictor or a chat model;
a new task plugs in with one line in `PREDICTORS` or `CHAT_LOADERS`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.errors import RunError
from tuneforge.llm.chat_model import ChatModel
from tuneforge.rundir import read_json

__all__ = ["CHAT_LOADERS", "PREDICTORS", "RECORD_TASKS", "ModelRegistry", "ServedModel", "parse_model_arg", "task_of"]

Predictor = Callable[[list[Any]], list[Any]]  # a batch of inputs -> one JSON-able result per input


def _classifier(run_dir: Path) -> Predictor:
    from tuneforge.classifier import TextClassifier

    classifier = TextClassifier.load(run_dir)

    def predict(texts: list[str]) -> list[dict[str, Any]]:
        return [
            {"label": p.label, "score": p.score, "probabilities": p.probabilities} for p in classifier.predict(texts)
        ]

    return predict


def _tagger(run_dir: Path) -> Predictor:
    from tuneforge.tagger import TokenClassifier

    tagger = TokenClassifier.load(run_dir)
    return lambda texts: [{"entities": spans} for spans in tagger.predict(texts)]


def _tabular(run_dir: Path) -> Predictor:
    from tuneforge import tabular

    return tabular.load(run_dir).predict


def _recommender(run_dir: Path) -> Predictor:
    from tuneforge import recommend

    return recommend.load(run_dir).predict


# task (manifest.json "task", or "causal-lm" for a plain Hugging Face model dir) -> loader
PREDICTORS: dict[str, Callable[[Path], Predictor]] = {
    "text-classification": _classifier,
    "token-classification": _tagger,
    "tabular-classification": _tabular,
    "recommendation": _recommender,
}
# Tasks whose requests carry JSON objects (`records`) instead of texts. Their models are cheap per row, so each
# request runs on its own (in a thread): a bad record then fails its own request with a 422, not a whole batch.
RECORD_TASKS = {"tabular-classification", "recommendation"}


def _chat_model(path: Path) -> ChatModel:
    loaded = ChatModel.load(path)  # a run: base model + adapter, or the full model, and the run's tokenizer
    model = loaded.model
    if hasattr(model, "merge_and_unload"):  # LoRA/IA3 folded into the weights: no adapter cost per token
        model = model.merge_and_unload()
    # Requests bring OpenAI's sampling fields over neutral defaults: a run's sft.generation (stop strings, top_k,
    # repetition penalty) is for tuneforge chat/generate and evaluation only.
    return ChatModel(model, loaded.tokenizer)


CHAT_LOADERS: dict[str, Callable[[Path], ChatModel]] = {"causal-lm": _chat_model, "causal-lm-sft": _chat_model}


def task_of(path: Path) -> str:
    """The task of a tuneforge run dir (its manifest), or "causal-lm" for a plain HF causal-LM dir."""
    if (path / "manifest.json").is_file():
        return str(read_json(path / "manifest.json").get("task"))
    if (path / "config.json").is_file():
        architectures = json.loads((path / "config.json").read_text(encoding="utf-8")).get("architectures") or []
        if any(name.endswith("ForCausalLM") for name in architectures):
            return "causal-lm"
    raise RunError(f"{path}: neither a tuneforge run dir (manifest.json) nor a Hugging Face causal-LM dir")


def parse_model_arg(arg: str) -> tuple[str, Path]:
    """`name=path` or `path` (named after its folder)."""
    name, _, path = arg.rpartition("=")
    return (name or Path(path).name), Path(path)


@dataclass(frozen=True)
class ServedModel:
    name: str
    task: str
    path: Path
    predictor: Predictor | None = None
    chat: ChatModel | None = None


def load_model(name: str, path: Path) -> ServedModel:
    task = task_of(path)
    if task in PREDICTORS:
        return ServedModel(name, task, path, predictor=PREDICTORS[task](path))
    if task in CHAT_LOADERS:
        return ServedModel(name, task, path, chat=CHAT_LOADERS[task](path))
    raise RunError(f"{path}: task '{task}' cannot be served; servable: {', '.join([*PREDICTORS, *CHAT_LOADERS])}")


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
            if old is not None and (old.predictor is None) != (model.predictor is None):
                raise RunError(f"cannot reload '{model.name}' ({old.task}) with a '{model.task}' model")
            self._models[model.name] = model
