"""The training loop: AdamW, warm-up and decay, accumulation, clipping, adversarial training (FGM), evaluation,
early stopping, exact resume.

One function, `fit`, that a task calls with its model, encoded examples and an evaluation function. It runs the
same under `accelerate launch --num_processes 2` (DDP), where each process takes every other batch.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from transformers import get_scheduler

from tuneforge.config import TrainConfig
from tuneforge.errors import TrainingInterrupted, TuneforgeError
from tuneforge.training.adversarial import EmbeddingAttack
from tuneforge.training.batching import IGNORE, epoch_batches
from tuneforge.training.checkpoint import (
    TrainerState,
    capture_rng,
    find_checkpoint,
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
)
from tuneforge.training.progress import TrainProgress

__all__ = ["FitResult", "TrainingDiverged", "TrainingInterrupted", "fit"]

Batch = dict[str, torch.Tensor]


def _mean_targets(features: list[dict[str, Any]]) -> float | None:
    """Mean labelled tokens per example for token-level targets (NER tags, answer tokens); None otherwise."""
    if not features or not isinstance(features[0].get("labels"), list):
        return None
    total = sum(sum(label != IGNORE for label in f["labels"]) for f in features)
    return total / len(features) if total else None


class TrainingDiverged(TuneforgeError):
    """The loss (or the gradient norm) became NaN or infinite: the step's update is not applied and nothing of it
    is saved, so the last checkpoint stays as it was."""


@dataclass
class FitResult:
    state: TrainerState
    stopped_early: bool


@dataclass
class _Plan:
    batches_per_epoch: int
    steps_per_epoch: int
    total_steps: int


def _plan(n_examples: int, cfg: TrainConfig, world: int) -> _Plan:
    batches = math.ceil(n_examples / cfg.batch_size) // world
    if batches == 0:
        raise TuneforgeError(f"{n_examples} training examples make no batch of {cfg.batch_size} per process")
    steps = math.ceil(batches / cfg.grad_accum)
    return _Plan(batches, steps, max(1, math.ceil(cfg.epochs * steps)))


def _optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            # No decay on biases and norm weights: the usual BERT recipe (Devlin et al. 2019, HF Trainer).
            (no_decay if param.ndim < 2 else decay).append(param)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, fused=True)


def _is_better(value: float, best: float | None, metric: str, min_delta: float) -> bool:
    if best is None:
        return True
    return value < best - min_delta if metric.endswith("loss") else value > best + min_delta


class _Trainer:
    def __init__(
        self, model, features, collate, loss_fn, evaluate, cfg, ckpt_dir, accelerator, on_eval, after_step
    ) -> None:
        self.cfg, self.ckpt_dir, self.acc = cfg, ckpt_dir, accelerator
        self.features, self.collate, self.loss_fn = features, collate, loss_fn
        self.evaluate, self.on_eval, self.after_step = evaluate, on_eval, after_step
        self.lengths = [len(f["input_ids"]) for f in features]
        # Length-grouped batches put short sentences together. A task's loss is a mean over the batch's targets,
        # so each token of a short batch would weigh more; scaling by the batch's share of targets restores an
        # equal weight per token (as random batches give): on CoNLL-2003 grouping alone cost 1 F1 point.
        mean_targets = _mean_targets(features)
        self.targets_per_batch = mean_targets * cfg.batch_size if mean_targets else None
        self.plan = _plan(len(features), cfg, accelerator.num_processes)
        optimizer = _optimizer(model, cfg)
        scheduler = get_scheduler(
            "constant_with_warmup" if cfg.scheduler == "constant" else cfg.scheduler,
            optimizer,
            num_warmup_steps=round(cfg.warmup_ratio * self.plan.total_steps),
            num_training_steps=self.plan.total_steps,
        )
        self.attack = EmbeddingAttack(model, cfg.adversarial.epsilon) if cfg.adversarial else None
        self.model, self.optimizer, self.scheduler = accelerator.prepare(model, optimizer, scheduler)
        self.state = TrainerState()
        self.saved_step: int | None = None  # the step of the checkpoint in last/, for TrainingDiverged
        self.rng_at_step = capture_rng()
        self.eval_every = cfg.eval_every or self.plan.steps_per_epoch
        self.save_every = cfg.save_every or self.eval_every

    @property
    def _raw_model(self) -> torch.nn.Module:
        return self.acc.unwrap_model(self.model)

    def resume(self) -> bool:
        found = find_checkpoint(self.ckpt_dir / "last")
        if found is None:
            return False
        self.state = load_checkpoint(found, model=self._raw_model, optimizer=self.optimizer, scheduler=self.scheduler)
        self.saved_step = self.state.step
        self.rng_at_step = capture_rng()
        return True

    def _my_batches(self, epoch: int) -> list[list[int]]:
        batches = epoch_batches(
            self.lengths,
            self.cfg.batch_size,
            seed=self.cfg.seed,
            epoch=epoch,
            group_by_length=self.cfg.group_by_length is not False,  # null (auto) means on, here
        )
        world, rank = self.acc.num_processes, self.acc.process_index
        return batches[: self.plan.batches_per_epoch * world][rank::world]

    def _steps(self) -> Iterator[tuple[int, list[list[int]]]]:
        """Yield (epoch, micro-batches of one optimiser step) from where the state says training stands."""
        accum = self.cfg.grad_accum
        while self.state.step < self.plan.total_steps:
            batches = self._my_batches(self.state.epoch)
            for start in range(self.state.batches_done, len(batches), accum):
                yield self.state.epoch, batches[start : start + accum]
                if self.state.step >= self.plan.total_steps:
                    return
            self.state.epoch += 1
            self.state.batches_done = 0

    def _loss(self, batch: Batch, n_micro_batches: int) -> torch.Tensor:
        loss = self.loss_fn(self.model, batch) / n_micro_batches
        if self.targets_per_batch:
            loss = loss * (batch["labels"] != IGNORE).sum() / self.targets_per_batch
        return loss

    def _train_step(self, micro_batches: list[list[int]]) -> float:
        self.model.train()
        total = 0.0
        for i, indices in enumerate(micro_batches):
            batch = self.collate([self.features[j] for j in indices])
            real_tokens = batch.pop("real_tokens", None)  # packed batches: tokens other than tail padding
            last = i == len(micro_batches) - 1
            # DDP all-reduces gradients only on the last micro-batch of a step.
            sync = contextlib.nullcontext() if last else self.acc.no_sync(self.model)
            # With FGM the clean pass needs no all-reduce of its own: the adversarial pass's sums both.
            clean_sync = self.acc.no_sync(self.model) if self.attack else sync
            watch = self.attack.watch() if self.attack else contextlib.nullcontext()
            with clean_sync, watch, self.acc.autocast():
                loss = self._loss(batch, len(micro_batches))
                self.acc.backward(loss)
            if self.attack:
                with sync, self.attack.perturbed(), self.acc.autocast():
                    self.acc.backward(self._loss(batch, len(micro_batches)))
            value = loss.item()
            if not math.isfinite(value):
                self._diverged(f"the loss is {value}")
            total += value
            if real_tokens is None:
                mask = batch.get("attention_mask")
                real_tokens = mask.sum() if mask is not None else batch["input_ids"].numel()
            self.state.train_tokens += int(real_tokens)
        if self.cfg.max_grad_norm:
            norm = float(self.acc.clip_grad_norm_(self.model.parameters(), self.cfg.max_grad_norm))
            # fp16's loss scaler skips steps with inf gradients itself; without it such a step would ruin the weights.
            if not math.isfinite(norm) and self.acc.scaler is None:
                self._diverged(f"the gradient norm is {norm}")
        self.optimizer.step()
        if self.after_step:
            self.after_step(self.state.step, self.plan.total_steps)
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.state.step += 1
        self.state.batches_done += len(micro_batches)
        return total

    def _diverged(self, what: str) -> None:
        """Stop before the step's update: the weights and the checkpoints stay those of the last good step."""
        self.optimizer.zero_grad(set_to_none=True)
        lr = self.cfg.lr
        clip = "" if self.cfg.max_grad_norm else " or set train.max_grad_norm: 1.0"
        kept = (
            f"the last good checkpoint (step {self.saved_step}) is kept in {self.ckpt_dir / 'last'}; --resume "
            "continues from it with the learning rate it saved"
            if self.saved_step is not None
            else "no checkpoint had been saved yet"
        )
        raise TrainingDiverged(
            f"training diverged at step {self.state.step + 1}: {what}. Lower train.lr (now {lr:g}; try {lr / 10:g})"
            f"{clip} and train again without --resume; {kept}"
        )

    def _evaluate(self, train_loss: float) -> bool:
        """Evaluate, keep the best weights, and return True when early stopping says stop."""
        metrics = self.evaluate(self._raw_model)
        record = {
            "step": self.state.step,
            "epoch": round(self.state.step / self.plan.steps_per_epoch, 3),
            "train_loss": train_loss,
            "lr": self.scheduler.get_last_lr()[0],
            **metrics,
        }
        self.state.history.append(record)
        stopping = self.cfg.early_stopping
        metric = (stopping.metric if stopping else None) or "loss"  # None: tasks.train names the main one
        if metric not in metrics:
            raise TuneforgeError(
                f"train.early_stopping.metric '{metric}' is not computed; choose one of {sorted(metrics)}"
            )
        if _is_better(metrics[metric], self.state.best_metric, metric, stopping.min_delta if stopping else 0.0):
            self.state.best_metric, self.state.best_step = metrics[metric], self.state.step
            self.state.evals_without_improvement = 0
            if self.acc.is_main_process:
                save_weights(self._raw_model, self.ckpt_dir / "best.safetensors")
        else:
            self.state.evals_without_improvement += 1
        self.on_eval(record)
        return bool(stopping and self.state.evals_without_improvement >= stopping.patience)

    def _save(self) -> None:
        self.acc.wait_for_everyone()
        if self.acc.is_main_process:
            save_checkpoint(
                self.ckpt_dir / "last",
                model=self._raw_model,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                state=self.state,
                rng=self.rng_at_step,
            )
        self.saved_step = self.state.step
        self.acc.wait_for_everyone()

    def run(self) -> FitResult:
        stopped_early = False
        window = self.state.losses_since_eval
        progress = TrainProgress(self.plan.total_steps, self.state.step, enabled=self.acc.is_main_process)
        try:
            with progress:
                for _, micro_batches in self._steps():
                    started = time.perf_counter()
                    window.append(self._train_step(micro_batches))
                    self.state.train_seconds += time.perf_counter() - started
                    self.rng_at_step = capture_rng()
                    progress.update(self.state.step, loss=sum(window[-20:]) / len(window[-20:]))
                    done = self.state.step >= self.plan.total_steps
                    if self.evaluate and (self.state.step % self.eval_every == 0 or done):
                        stopped_early = self._evaluate(sum(window) / len(window))
                        window.clear()
                    if self.state.step % self.save_every == 0 or done or stopped_early:
                        self._save()
                    if stopped_early:
                        break
        except KeyboardInterrupt:
            self._save()
            raise TrainingInterrupted(
                f"interrupted at step {self.state.step}; checkpoint saved, continue with --resume"
            ) from None
        finally:
            if self.attack:
                self.attack.remove()
        best = self.ckpt_dir / "best.safetensors"
        if best.is_file():
            load_weights(self._raw_model, best)
        return FitResult(self.state, stopped_early)


def fit(
    model: torch.nn.Module,
    features: list[dict[str, Any]],
    *,
    collate: Callable[[list[dict[str, Any]]], Batch],
    loss_fn: Callable[[torch.nn.Module, Batch], torch.Tensor],
    evaluate: Callable[[torch.nn.Module], dict[str, float]] | None,
    cfg: TrainConfig,
    ckpt_dir: Path,
    accelerator: Accelerator,
    resume: bool = False,
    on_eval: Callable[[dict[str, Any]], None] = lambda record: None,
    after_step: Callable[[int, int], None] | None = None,
) -> FitResult:
    """Train `model` on `features` (dicts with `input_ids` and the task's targets) and return the final state.

    The model ends with the weights of the best evaluation (the last weights when `evaluate` is None).
    `ckpt_dir` receives `last/` (resumable) and `best.safetensors`; with `resume=True` training continues
    from `last/` where one exists. `after_step(step, total_steps)` runs after each optimiser step, before the
    gradients are cleared (AdaLoRA reallocates ranks there).
    """
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    trainer = _Trainer(model, features, collate, loss_fn, evaluate, cfg, ckpt_dir, accelerator, on_eval, after_step)
    if resume:
        trainer.resume()
    return trainer.run()
