"""Zero-shot by embedding similarity: each text gets the label whose description it embeds closest to.

No training. Each label is described by one or more texts (default its name, underscores as spaces; or the
user's descriptions, in any language the encoder knows), put through `template` and embedded; a label's vector
is the normalised mean of its descriptions' embeddings. Scores are cosine similarities divided by a temperature.
The run saves only those label vectors (`head/head.safetensors`) and the texts they came from
(`head/label_texts.json`); the encoder is the base model, which must be present where the run is loaded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator

from tuneforge.config import Config
from tuneforge.data import PreparedData
from tuneforge.embedding import SentenceEncoder, encode_texts, linear_head, load_encoder
from tuneforge.methods.fewshot_blocks import ZeroShotEmbedMethod
from tuneforge.rundir import write_json
from tuneforge.rundir.saved import saved_entries
from tuneforge.tasks.text_classification.fewshot.base import (
    FewShotMethod,
    Fitted,
    check_label_keys,
    label_name,
    no_training,
)
from tuneforge.tasks.text_classification.fewshot.encoder import EmbeddingClassifier, encoder_task, load_head, save_head
from tuneforge.tasks.text_classification.task import TextClassification

__all__ = ["ZEROSHOT_EMBED", "label_texts"]

# Softmax temperature of cosine similarities, 0.05 as in SimCSE (Gao et al. 2021): probabilities, not the ranking.
TEMPERATURE = 0.05


def label_texts(method: ZeroShotEmbedMethod, labels: list[str]) -> dict[str, list[str]]:
    """The texts embedded for each label: its descriptions (default its name as words) through the template."""
    given = method.descriptions or {}
    check_label_keys("zeroshot-embed", list(given), labels)
    texts = {}
    for label in labels:
        descriptions = given.get(label, label_name(label))
        descriptions = [descriptions] if isinstance(descriptions, str) else descriptions
        texts[label] = [method.template.format(label=d) for d in descriptions]
    return texts


def _label_vectors(encoder: SentenceEncoder, task: TextClassification, texts: dict[str, list[str]]) -> torch.Tensor:
    flat = [t for label in task.labels for t in texts[label]]
    vectors = encode_texts(encoder, task.tokenizer, flat, max_length=task.max_length, batch_size=64)
    owner = torch.tensor([i for i, label in enumerate(task.labels) for _ in texts[label]])
    sums = torch.zeros(len(task.labels), vectors.shape[1]).index_add_(0, owner, vectors)
    return torch.nn.functional.normalize(sums, dim=-1)


def _fit(cfg: Config, data: PreparedData, run_dir: Path, accelerator: Accelerator, resume: bool) -> Fitted:
    started = time.perf_counter()
    texts = label_texts(cfg.method, data.labels)  # config errors before the model loads
    encoder, tokenizer = load_encoder(cfg.model)
    task = encoder_task(tokenizer, data.labels, cfg.train.max_length)
    vectors = _label_vectors(encoder.to(accelerator.device), task, texts)
    head = linear_head(vectors / TEMPERATURE, torch.zeros(len(data.labels)))
    model = EmbeddingClassifier(encoder, head.to(accelerator.device)).requires_grad_(False).eval()
    return Fitted(task, model, *no_training(started))


def _save(fitted: Fitted, run_dir: Path, cfg: Config) -> dict[str, Any]:
    folder = run_dir / "head"
    save_head(fitted.model.head, folder)
    write_json(folder / "label_texts.json", label_texts(cfg.method, fitted.task.labels))
    return saved_entries(folder, cfg.method, cfg.model)


def _load(run_dir: Path, manifest: dict[str, Any]) -> tuple[TextClassification, torch.nn.Module]:
    encoder, tokenizer = load_encoder(manifest["base_model"])
    model = EmbeddingClassifier(encoder, load_head(run_dir / manifest["saved_dir"]))
    return encoder_task(tokenizer, manifest["labels"], manifest["max_length"]), model.requires_grad_(False).eval()


ZEROSHOT_EMBED = FewShotMethod(
    fit=_fit,
    save=_save,
    load=_load,
)
