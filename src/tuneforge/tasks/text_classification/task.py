"""Text classification: encoding, batching, loss and evaluation for a sequence-classification head."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from transformers import AutoModelForSequenceClassification, PreTrainedTokenizerBase

from tuneforge.config import Config
from tuneforge.data import Example, PreparedData, prepare_data
from tuneforge.errors import ConfigError, RunError
from tuneforge.evaluate.metrics import classification_metrics, per_class_table
from tuneforge.evaluate.plots import plot_confusion
from tuneforge.evaluate.report import render_report
from tuneforge.evaluate.slices import indices_by_script
from tuneforge.methods.base import ADDED_MODULES
from tuneforge.models import load_pretrained, resolve_model
from tuneforge.tasks.text_classification.first_token import first_token_last_layer
from tuneforge.tasks.text_classification.mean_pooling import (
    Pooling,
    append_mean_pooling,
    checkpoint_pooling,
    fast_mean_pooling,
    pooling_modules,
)
from tuneforge.training.progress import progress
from tuneforge.training.task import Feature

__all__ = ["TextClassification", "batched_logits", "build_classifier"]

# One predicted class for this share of a split's texts, while the split holds several classes: a collapsed model.
COLLAPSE_SHARE = 0.95


def build_classifier(model_path: str, labels: list[str], pooling: Pooling = "cls") -> torch.nn.Module:
    """A pretrained encoder with a fresh classification head whose config carries the label names.

    pooling "mean" appends the mean-pooling layer (mean_pooling.py) unless the checkpoint already has it; a model
    with that layer computes it from the masked mean, any other computes only position 0 of its last layer.
    """
    model = load_pretrained(
        AutoModelForSequenceClassification,
        model_path,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    if pooling == "mean" and not append_mean_pooling(model):
        raise ConfigError(
            f"pooling: mean needs a BERT-family encoder; {model.config.model_type} ({model_path}) has other layers. "
            "Set pooling: cls"
        )
    first_token_last_layer(model)  # the pooling layer's fallback, or the [CLS] model's speed-up
    fast_mean_pooling(model)
    # PEFT methods save these whole; they keep the pooling layer as built (a mean) and train the reset pooler.
    setattr(model, ADDED_MODULES, {name: ".pooler." in f".{name}." for name in pooling_modules(model)})
    return model


def collate(features: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad to the longest text of the batch (dynamic padding)."""
    width = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for row, feature in enumerate(features):
        n = len(feature["input_ids"])
        ids[row, :n] = torch.tensor(feature["input_ids"])
        mask[row, :n] = 1
    batch = {"input_ids": ids, "attention_mask": mask}
    if "label" in features[0]:
        batch["labels"] = torch.tensor([f["label"] for f in features])
    return batch


def batched_logits(
    model: torch.nn.Module,
    features: Sequence[Feature],
    *,
    pad_id: int,
    batch_size: int,
    description: str | None = None,
) -> Iterator[tuple[list[int], dict[str, torch.Tensor], torch.Tensor]]:
    """Yield (indices, batch, logits), longest texts first so that batches carry little padding; with a
    `description`, a progress bar over the batches."""
    lengths = [len(f["input_ids"]) for f in features]
    device = next(model.parameters()).device
    chunks = _length_chunks(lengths, batch_size)
    model.eval()
    with torch.inference_mode():
        for indices in progress(chunks, len(chunks), description) if description else chunks:
            batch = collate([features[i] for i in indices], pad_id)
            inputs = {k: v.to(device) for k, v in batch.items() if k != "labels"}
            yield indices, batch, model(**inputs).logits.float().cpu()


def _length_chunks(lengths: Sequence[int], batch_size: int, fill: float = 0.7) -> list[list[int]]:
    """Indices by length, longest first, cut into chunks of at most batch_size whose texts are all at least
    `fill` of the chunk's longest: at most 30% padding. Served micro-batches mix short and long texts; one
    padded chunk of 32 demo messages took 332 ms, chunks by length 197 ms (bf16, one thread, busy machine)."""
    chunks: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        if not chunks or len(chunks[-1]) == batch_size or lengths[i] < fill * lengths[chunks[-1][0]]:
            chunks.append([])
        chunks[-1].append(i)
    return chunks


class TextClassification:
    """Everything the training loop needs to know about this task."""

    main_metric = "macro_f1"

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        labels: list[str],
        max_length: int,
        class_weights: list[float] | None,
        pooling: Pooling = "cls",
        label_smoothing: float = 0.0,
    ) -> None:
        self.tokenizer, self.labels, self.max_length, self.pooling = tokenizer, labels, max_length, pooling
        self.label_smoothing = label_smoothing
        self.label_ids = {label: i for i, label in enumerate(labels)}
        self.class_weights = torch.tensor(class_weights, dtype=torch.float) if class_weights else None
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    @classmethod
    def prepare_data(cls, cfg: Config, tokenizer: PreTrainedTokenizerBase) -> PreparedData:
        def count_tokens(texts: list[str]) -> list[int]:
            return [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]

        return prepare_data(
            cfg.data, max_length=cfg.train.max_length, max_tokens=cfg.max_tokens, count_tokens=count_tokens
        )

    @classmethod
    def for_training(cls, cfg: Config, tokenizer: PreTrainedTokenizerBase, data: PreparedData) -> TextClassification:
        pooling = checkpoint_pooling(resolve_model(cfg.model)) if cfg.pooling == "auto" else cfg.pooling
        weights = _class_weights(data, cfg.train.class_weights)
        return cls(tokenizer, data.labels, cfg.train.max_length, weights, pooling, cfg.train.label_smoothing)

    def build_model(self, model_path: str) -> torch.nn.Module:
        return build_classifier(model_path, self.labels, self.pooling)

    def encode_examples(self, examples: Sequence[Example]) -> list[Feature]:
        return self.encode([e.text for e in examples], [e.label for e in examples])

    def encode(self, texts: Sequence[str], labels: Sequence[str] | None = None) -> list[Feature]:
        """Token ids of each text, cut to max_length tokens (special tokens included)."""
        if not texts:
            return []
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        if labels is None:
            return [{"input_ids": x} for x in ids]
        return [{"input_ids": x, "label": self.label_ids[y]} for x, y in zip(ids, labels, strict=True)]

    def encode_windows(self, texts: Sequence[str]) -> list[list[Feature]]:
        """Each text's windows of at most max_length tokens: its first is what `encode` gives (what the run trained
        on); a longer text goes on in windows of the same size, the tokenizer's special tokens around each, and
        neighbours share max_length // 4 tokens as NER's windows do (train.stride's default).

        Windows are cut from the text's token ids rather than by `return_overflowing_tokens`, which not every
        tokenizer returns per window. A task that builds its own inputs (zeroshot-llm's prompts) refuses.
        """
        if type(self).encode is not TextClassification.encode:
            raise RunError(
                f"windows: this run's inputs are built by {type(self).__name__}.encode (zeroshot-llm puts each text "
                f"in a prompt, cut to max_length {self.max_length} tokens), not read as windows of token ids; "
                "predict without windows"
            )
        firsts = self.encode(texts)
        if not firsts:
            return []
        before, after = self._special_tokens()
        size = self.max_length - len(before) - len(after)
        step = size - min(self.max_length // 4, size // 2)
        windows = []
        for first, ids in zip(firsts, self.tokenizer(list(texts), add_special_tokens=False)["input_ids"], strict=True):
            # Starts after the first window's, up to the first window that reaches the text's end.
            starts = range(step, max(len(ids) - size, 0) + step, step)
            windows.append([first, *({"input_ids": [*before, *ids[s : s + size], *after]} for s in starts)])
        return windows

    def _special_tokens(self) -> tuple[list[int], list[int]]:
        """The ids the tokenizer puts before and after a text ([CLS] and [SEP] for BERT), read off a probe."""
        probe = self.tokenizer("a", add_special_tokens=True)["input_ids"]
        bare = self.tokenizer("a", add_special_tokens=False)["input_ids"]
        start = next(i for i in range(len(probe)) if probe[i : i + len(bare)] == bare)
        return probe[:start], probe[start + len(bare) :]

    def collate(self, features: Sequence[Feature]) -> dict[str, torch.Tensor]:
        return collate(features, self.pad_id)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        weight = self.class_weights.to(logits.device) if self.class_weights is not None else None
        targets = batch["labels"].to(logits.device)
        return torch.nn.functional.cross_entropy(
            logits.float(), targets, weight=weight, label_smoothing=self.label_smoothing
        )

    def confusion(
        self,
        model: torch.nn.Module,
        features: Sequence[Feature],
        *,
        batch_size: int,
        accelerator: Accelerator | None,
        description: str | None = None,
    ) -> tuple[np.ndarray, float]:
        """Confusion matrix (rows true, columns predicted) and mean loss; under DDP each process takes a shard.
        `description`: show a progress bar over the batches."""
        if accelerator is not None and accelerator.num_processes > 1:
            features = features[accelerator.process_index :: accelerator.num_processes]
        k = len(self.labels)
        confusion = torch.zeros((k, k), dtype=torch.long)
        loss_sum = torch.zeros((), dtype=torch.double)
        batches = batched_logits(model, features, pad_id=self.pad_id, batch_size=batch_size, description=description)
        for _, batch, logits in batches:
            targets = batch["labels"]
            loss_sum += torch.nn.functional.cross_entropy(logits, targets, reduction="sum").double()
            confusion += torch.bincount(targets * k + logits.argmax(-1), minlength=k * k).reshape(k, k)
        if accelerator is not None and accelerator.num_processes > 1:
            confusion = accelerator.reduce(confusion.to(accelerator.device), "sum").cpu()
            loss_sum = accelerator.reduce(loss_sum.to(accelerator.device), "sum").cpu()
        total = int(confusion.sum())
        return confusion.numpy(), float(loss_sum) / max(total, 1)

    def evaluate(
        self, model: torch.nn.Module, features: Sequence[Feature], *, batch_size: int, accelerator: Accelerator | None
    ) -> dict[str, float]:
        confusion, loss = self.confusion(model, features, batch_size=batch_size, accelerator=accelerator)
        return {"loss": loss, **classification_metrics(confusion)}

    def evaluate_examples(
        self, model: torch.nn.Module, examples: Sequence[Example], *, batch_size: int
    ) -> dict[str, Any]:
        """Metrics, per-class table and confusion matrix of one labelled split, and scores per script if mixed."""
        features = self.encode_examples(examples)
        described = f"evaluating {len(examples)} texts"
        confusion, loss = self.confusion(
            model, features, batch_size=batch_size, accelerator=None, description=described
        )
        by_script = []
        for script, indices in indices_by_script([e.text for e in examples]).items():
            part, _ = self.confusion(
                model,
                [features[i] for i in indices],
                batch_size=batch_size,
                accelerator=None,
                description=f"evaluating {len(indices)} texts in {script} script",
            )
            by_script.append({"script": script, **classification_metrics(part), "size": len(indices)})
        return {
            "loss": loss,
            **classification_metrics(confusion),
            "per_class": per_class_table(confusion, self.labels),
            "confusion": confusion.tolist(),
            "size": len(examples),
            **({"by_script": by_script} if by_script else {}),
        }

    def plots(self, run_dir: Path, results: dict[str, Any]) -> dict[str, str]:
        plots: dict[str, str] = {}
        for split in ("validation", "test"):
            if split in results:
                name = f"confusion_{split}.png"
                confusion = np.array(results[split]["confusion"])
                plot_confusion(confusion, self.labels, run_dir / name, f"{split} confusion")
                plots[f"Confusion matrix ({split})"] = name
        return plots

    def render_report(self, title: str, results: dict[str, Any], plots: dict[str, str] | None = None) -> str:
        return render_report(title, results, plots=plots)

    def warnings(self, results: dict[str, Any]) -> list[str]:
        """A model that predicts one class for (almost) every text of the test split (validation without one)."""
        split = "test" if "test" in results else "validation"
        if split not in results:
            return []
        confusion = np.array(results[split]["confusion"])
        predicted, classes, total = confusion.sum(0), int((confusion.sum(1) > 0).sum()), int(confusion.sum())
        if not total or classes < 2 or predicted.max() < COLLAPSE_SHARE * total:
            return []
        label = self.labels[int(predicted.argmax())]
        return [
            f"{split}: the model predicts '{label}' for {predicted.max() / total:.0%} of {total} texts, which hold "
            f"{classes} classes: it has collapsed to one class. Try a lower train.lr, more train.epochs, "
            "train.class_weights: balanced, or more examples of the other classes"
        ]

    def headline(self, split_results: dict[str, Any]) -> str:
        return f"accuracy {split_results['accuracy']:.4f}, macro F1 {split_results['macro_f1']:.4f}"

    def manifest(self) -> dict[str, Any]:
        return {"labels": self.labels, "max_length": self.max_length, "pooling": self.pooling}


def _class_weights(data: PreparedData, mode: str) -> list[float] | None:
    if mode == "none":
        return None
    counts = Counter(example.label for example in data.train)
    # "balanced" as in scikit-learn: n_samples / (n_classes * count).
    return [len(data.train) / (len(data.labels) * max(counts[label], 1)) for label in data.labels]
