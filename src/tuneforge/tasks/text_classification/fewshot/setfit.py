"""SetFit (Tunstall et al. 2022): few-shot classification by contrastive tuning of a sentence encoder.

1. Pairs of the labelled texts: per text and iteration, one with a text of the same label (target cosine
   similarity 1) and one with a text of another label (target 0). `loss: cosine` (SetFit's default
   CosineSimilarityLoss): squared error between the pair's cosine similarity and the target. `loss: ranking`
   (MultipleNegativesRankingLoss, the objective MiniLM was trained with): same-label pairs only, batched so that
   no label appears twice in a batch (`hard_negatives`: labels close to each other share batches); each text must
   pick its partner among all partners in the batch. This runs through the normal training loop (train.lr,
   batch_size, warm-up, seed, checkpoints, --resume); `method.epochs` passes over the pairs, one by default as in
   SetFit.
2. A logistic-regression head (scikit-learn) fitted on the tuned embeddings of the same texts; it becomes a
   linear layer whose softmax is the regression's predicted probability.

`shots: k` samples k texts per label from train (seeded per label); `shots: null` uses all of train. The run
saves the tuned encoder and the head in `model/` (`head.safetensors` beside the encoder's own files).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator

from tuneforge.config import Config
from tuneforge.data import Example, PreparedData
from tuneforge.embedding import SentenceEncoder, encode_texts, load_encoder, logistic_head
from tuneforge.errors import DataError
from tuneforge.methods.fewshot_blocks import SetFitMethod
from tuneforge.rundir.saved import saved_entries
from tuneforge.tasks.text_classification.fewshot.base import FewShotMethod, Fitted, check_label_keys
from tuneforge.tasks.text_classification.fewshot.encoder import EmbeddingClassifier, encoder_task, load_head, save_head
from tuneforge.tasks.text_classification.task import TextClassification, collate
from tuneforge.training.loop import fit

__all__ = ["SETFIT", "described", "make_pairs", "ranking_batches", "sample_shots"]


def sample_shots(examples: Sequence[Example], labels: list[str], shots: int | None, seed: int) -> list[Example]:
    """`shots` examples of every label (all of a label that has fewer), drawn with a seed of their own per label:
    the sample of one label does not change when other labels are added or removed."""
    by_label: dict[str, list[Example]] = {label: [] for label in labels}
    for example in examples:
        by_label[example.label].append(example)
    if missing := [label for label, found in by_label.items() if not found]:
        raise DataError(f"setfit needs at least one training example of every label; none for: {', '.join(missing)}")
    if shots is None:
        return list(examples)
    return [
        example
        for label, found in by_label.items()
        for example in random.Random(f"{seed}:{label}").sample(found, min(shots, len(found)))
    ]


def described(method: SetFitMethod, labels: list[str]) -> list[Example]:
    """The user's label descriptions as examples of their labels (none without descriptions)."""
    given = method.descriptions or {}
    check_label_keys("setfit", list(given), labels)
    return [
        Example(text=text, label=label, source="method.descriptions", line=0)
        for label, texts in given.items()
        for text in ([texts] if isinstance(texts, str) else texts)
    ]


def make_pairs(label_ids: Sequence[int], iterations: int, seed: int) -> list[tuple[int, int, float]]:
    """(i, j, target) index pairs for the cosine loss: per iteration and text i, a same-label j (not i itself where
    the label has other texts) with target 1.0 and an other-label j with target 0.0."""
    rng = random.Random(seed)
    members = _members(label_ids)
    others = {y: [i for i, other in enumerate(label_ids) if other != y] for y in members}
    pairs = []
    for _ in range(iterations):
        for i, y in enumerate(label_ids):
            pairs.append((i, _partner(i, members[y], rng), 1.0))
            if others[y]:
                pairs.append((i, rng.choice(others[y]), 0.0))
    return pairs


def _members(label_ids: Sequence[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {}
    for i, y in enumerate(label_ids):
        members.setdefault(y, []).append(i)
    return members


def _partner(i: int, same: list[int], rng: random.Random) -> int:
    """A text of i's label other than i (i itself when the label has no other), uniformly: drawing i means the last."""
    if len(same) == 1:
        return i
    j = same[rng.randrange(len(same) - 1)]
    return same[-1] if j == i else j


def ranking_batches(
    label_ids: Sequence[int],
    iterations: int,
    batch_size: int,
    seed: int,
    label_vectors: np.ndarray | None = None,
) -> list[list[tuple[int, int]]]:
    """Batches of same-label (i, j) pairs for the ranking loss, never two pairs of one label in a batch, so every
    other partner in a batch is a true negative. Per iteration every text is the first of one pair. With
    `label_vectors` (one normalised row per label), a batch gathers labels whose vectors are close: hard negatives.
    """
    rng = random.Random(seed)
    members = _members(label_ids)
    batches = []
    for _ in range(iterations):
        order = {y: rng.sample(texts, len(texts)) for y, texts in members.items()}
        for rank in range(max(map(len, members.values()))):  # one round: each label's rank-th text in its order
            present = [y for y in members if len(order[y]) > rank]
            for group in _label_groups(present, batch_size, rng, label_vectors):
                batches.append([(order[y][rank], _partner(order[y][rank], members[y], rng)) for y in group])
    return batches


def _label_groups(labels: list[int], size: int, rng: random.Random, vectors: np.ndarray | None) -> list[list[int]]:
    """`labels` in groups of `size`: at random, or with `vectors` a random label and its nearest free ones each."""
    free = rng.sample(labels, len(labels))
    if vectors is None:
        return [free[start : start + size] for start in range(0, len(free), size)]
    groups = []
    while free:
        first, free = free[0], free[1:]
        nearest = sorted(free, key=lambda y: -float(vectors[first] @ vectors[y]))[: size - 1]
        groups.append([first, *nearest])
        free = [y for y in free if y not in nearest]
    return groups


def _label_centroids(x: np.ndarray, label_ids: Sequence[int], n_labels: int) -> np.ndarray:
    sums = np.zeros((n_labels, x.shape[1]))
    np.add.at(sums, np.asarray(label_ids), x)
    return sums / np.linalg.norm(sums, axis=1, keepdims=True).clip(min=1e-12)


def _collate_pairs(features: Sequence[dict[str, Any]], pad_id: int) -> dict[str, torch.Tensor]:
    # Both sides of every pair in one padded batch: first texts, then their partners.
    texts = [{"input_ids": f["input_ids"]} for f in features] + [{"input_ids": f["pair_ids"]} for f in features]
    batch = collate(texts, pad_id)
    batch["labels"] = torch.tensor([f["target"] for f in features])
    return batch


def _embed_pairs(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    device = next(model.parameters()).device
    return model(batch["input_ids"].to(device), batch["attention_mask"].to(device)).chunk(2)


def _cosine_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    first, second = _embed_pairs(model, batch)
    cosine = (first * second).sum(-1)  # the embeddings are normalised
    return torch.nn.functional.mse_loss(cosine, batch["labels"].to(cosine.device))


def _ranking_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Text i must find its partner i among all partners of the batch; partners of its own label are no wrong
    answer and are masked out. Cosine similarities times 20, as sentence-transformers' ranking loss."""
    first, second = _embed_pairs(model, batch)
    labels = batch["labels"].to(first.device).long()
    same_label = (labels[:, None] == labels[None, :]) & ~torch.eye(len(labels), dtype=torch.bool, device=first.device)
    scores = (20.0 * first @ second.T).masked_fill(same_label, float("-inf"))
    return torch.nn.functional.cross_entropy(scores, torch.arange(len(labels), device=first.device))


def _pair_groups(
    cfg: Config, encoder: SentenceEncoder, task: TextClassification, texts: list[str], targets: list[int]
) -> list[list[tuple[int, int, float]]]:
    """The training pairs (i, j, target), in groups that stay together in a batch. cosine: one pair per group,
    batched at random by the loop; ranking: one group per batch (see `ranking_batches`), target = the label."""
    method: SetFitMethod = cfg.method
    if method.loss == "cosine":
        return [[pair] for pair in make_pairs(targets, method.iterations, cfg.train.seed)]
    vectors = None
    if method.hard_negatives:  # labels close before tuning are the ones to tell apart
        vectors = _label_centroids(_embed(cfg, encoder, task, texts), targets, len(task.labels))
    batches = ranking_batches(targets, method.iterations, cfg.train.batch_size, cfg.train.seed, vectors)
    return [[(i, j, float(targets[i])) for i, j in batch] for batch in batches]


def _embed(cfg: Config, encoder: SentenceEncoder, task: TextClassification, texts: list[str]) -> np.ndarray:
    batch_size = cfg.train.eval_batch_size or 2 * cfg.train.batch_size
    return encode_texts(encoder, task.tokenizer, texts, max_length=task.max_length, batch_size=batch_size).numpy()


def _fit(cfg: Config, data: PreparedData, run_dir: Path, accelerator: Accelerator, resume: bool) -> Fitted:
    method: SetFitMethod = cfg.method
    started = time.perf_counter()
    seed = cfg.train.seed if method.sample_seed is None else method.sample_seed
    examples = sample_shots(data.train, data.labels, method.shots, seed) + described(method, data.labels)
    encoder, tokenizer = load_encoder(cfg.model)
    task = encoder_task(tokenizer, data.labels, cfg.train.max_length)
    texts, targets = [e.text for e in examples], [task.label_ids[e.label] for e in examples]
    ids = [f["input_ids"] for f in task.encode(texts)]
    groups = [
        [{"input_ids": ids[i], "pair_ids": ids[j], "target": target} for i, j, target in group]
        for group in _pair_groups(cfg, encoder, task, texts, targets)
    ]
    ranking = method.loss == "ranking"
    # The loop batches features: a ranking feature is a whole batch already, so it takes one per step.
    loop_cfg = {"epochs": method.epochs} | ({"batch_size": 1, "group_by_length": False} if ranking else {})
    result = fit(
        encoder,
        # The loop reads a feature's length (to batch similar lengths) from its `input_ids`.
        [{"input_ids": group[0]["input_ids"], "pairs": group} for group in groups],
        collate=lambda features: _collate_pairs([pair for f in features for pair in f["pairs"]], task.pad_id),
        loss_fn=_ranking_loss if ranking else _cosine_loss,
        evaluate=None,
        cfg=cfg.train.model_copy(update=loop_cfg),
        ckpt_dir=run_dir / "checkpoints",
        accelerator=accelerator,
        resume=resume,
    )
    encoder = accelerator.unwrap_model(encoder, keep_fp32_wrapper=False)  # embed as the saved model will
    x = _embed(cfg, encoder, task, texts)
    head = logistic_head(x, np.array(targets), len(data.labels), method.head_c).to(accelerator.device)
    model = EmbeddingClassifier(encoder, head).eval()
    return Fitted(task, model, result, time.perf_counter() - started)


def _save(fitted: Fitted, run_dir: Path, cfg: Config) -> dict[str, Any]:
    folder = run_dir / "model"
    fitted.model.encoder.body.save_pretrained(folder)
    fitted.task.tokenizer.save_pretrained(folder)
    save_head(fitted.model.head, folder)
    return saved_entries(folder, cfg.method, cfg.model)


def _load(run_dir: Path, manifest: dict[str, Any]) -> tuple[TextClassification, torch.nn.Module]:
    folder = run_dir / manifest["saved_dir"]
    encoder, tokenizer = load_encoder(folder)
    model = EmbeddingClassifier(encoder, load_head(folder))
    return encoder_task(tokenizer, manifest["labels"], manifest["max_length"]), model.eval()


SETFIT = FewShotMethod(
    fit=_fit,
    save=_save,
    load=_load,
)
