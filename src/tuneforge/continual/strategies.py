"""How a challenger learns without forgetting, as pieces of the shared training loop: a grown head
(`HeadGrowth`, a HeadInit), and a task whose loss adds EWC's pull towards the champion's weights and LwF's
distillation of the champion's outputs (`Regularized`).

EWC: Kirkpatrick et al. 2017, a diagonal Fisher from the champion's training rows. LwF: Li & Hoiem 2017, on the
round's own training batches, over the labels the champion knows.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from tuneforge.training.batching import IGNORE
from tuneforge.training.task import LoopTask

_MODEL_INPUTS = ("input_ids", "attention_mask", "position_ids", "token_type_ids")

__all__ = ["HeadGrowth", "Regularized", "head_rows", "fisher_information", "load_fisher", "save_fisher"]


class HeadGrowth:
    """Copies the champion's head rows into a head built for more labels: known labels keep their rows (so their
    logits start equal to the champion's). A new label's row is imprinted (Qi et al. 2018): the direction of the
    mean feature of its training examples, at the mean length of the known rows, with their mean bias — a random
    row would start with logits far below the trained ones and learn slowly at a round's small learning rate."""

    def __init__(self, champion_model_dir: Path) -> None:
        self.champion_model_dir, self.known = champion_model_dir, head_rows(champion_model_dir)
        self.grown: list[str] = []  # the parameters that got rows, once called

    def __call__(
        self, model: torch.nn.Module, task: Any, train: Sequence[Any], validation: Sequence[Any], **kwargs: Any
    ) -> dict[str, Any]:
        grown = len(task.labels)
        if grown == self.known:
            return {}
        copied = []
        with safe_open(self.champion_model_dir / "model.safetensors", framework="pt") as saved, torch.no_grad():
            names = set(saved.keys())
            for name, param in model.named_parameters():
                if name not in names or param.shape[0] != grown:
                    continue
                old = saved.get_tensor(name)
                if old.shape[0] == self.known and old.shape[1:] == param.shape[1:]:
                    param[: self.known] = old.to(param.dtype)
                    copied.append(name)
        if not copied:
            raise RuntimeError(f"no head of {self.known} rows found in {self.champion_model_dir} to grow")
        self.grown = copied
        # Replaces load_pretrained's note that the head was rebuilt: its known rows are the champion's again.
        model.tuneforge_notes = [
            f"the champion's head grew from {self.known} to {grown} outputs: the known rows are the champion's, "
            "the new ones imprinted from their examples"
        ]
        imprinted = _imprint(model, task, train, copied, self.known, kwargs.get("batch_size", 32))
        return {"known_labels": self.known, "new_labels": grown - self.known, "grown": copied, "imprinted": imprinted}


_IMPRINT_EXAMPLES = 4000  # enough for a class mean; bounds the feature pass of a large round


def _imprint(model: torch.nn.Module, task: Any, train: Sequence[Any], grown: list[str], known: int, batch_size: int):
    """Imprint the new rows of the grown linear head from the features its input gets on `train`; returns the
    number of rows imprinted (new labels without a training example keep their random rows)."""
    weight_name = next((name for name in grown if name.endswith(".weight")), None)
    if weight_name is None:
        return 0
    head = model.get_submodule(weight_name.rsplit(".", 1)[0])
    features = [
        f
        for f in task.encode_examples(list(train))
        if max(f["label"] if "label" in f else max(f.get("labels") or [-1]), -1) >= known
    ][:_IMPRINT_EXAMPLES]
    sums = torch.zeros_like(head.weight, dtype=torch.float32)
    counts = torch.zeros(head.weight.shape[0])
    captured: dict[str, torch.Tensor] = {}
    handle = head.register_forward_pre_hook(lambda module, args: captured.__setitem__("x", args[0]))
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(features), batch_size):
                batch = task.collate(features[start : start + batch_size])
                model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
                targets = batch["labels"].flatten()
                x = captured["x"].float().reshape(len(targets), -1)
                new = targets >= known
                sums.index_add_(0, targets[new], x[new])
                counts += torch.bincount(targets[new], minlength=len(counts)).float()
    finally:
        handle.remove()
    rows = [i for i in range(known, len(counts)) if counts[i] > 0]
    with torch.no_grad():
        length = head.weight[:known].norm(dim=1).mean()
        for i in rows:
            mean = sums[i] / counts[i]
            head.weight[i] = (mean / mean.norm().clamp(min=1e-12) * length).to(head.weight.dtype)
            if head.bias is not None:
                head.bias[i] = head.bias[:known].mean()
    return len(rows)


def head_rows(model_dir: Path) -> int:
    """How many outputs the saved model's head has (classes; NER: tags)."""
    return len(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["id2label"])


def fisher_information(
    model: torch.nn.Module, task: LoopTask, examples: Sequence[Any], *, batch_size: int = 8
) -> dict[str, torch.Tensor]:
    """Diagonal empirical Fisher of `model` on `examples`: the mean squared gradient of the task's loss, per batch
    times the batch size (a batch mean's gradient has 1/batch the variance of one example's)."""
    features = task.encode_examples(list(examples))
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    fisher = {name: torch.zeros_like(p, dtype=torch.float32) for name, p in params.items()}
    batches = [features[i : i + batch_size] for i in range(0, len(features), batch_size)]
    model.eval()  # no dropout: the champion's own gradients
    for batch in batches:
        model.zero_grad(set_to_none=True)
        task.loss(model, task.collate(batch)).backward()
        for name, p in params.items():
            if p.grad is not None:
                fisher[name] += p.grad.detach().float() ** 2 * len(batch)
    model.zero_grad(set_to_none=True)
    return {name: f / max(len(batches), 1) for name, f in fisher.items()}


def save_fisher(fisher: dict[str, torch.Tensor], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    save_file({name: f.contiguous() for name, f in fisher.items()}, str(tmp))
    tmp.replace(path)


def load_fisher(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(path, framework="pt") as saved:
        return {name: saved.get_tensor(name) for name in saved.keys()}


class Regularized:
    """`task` whose loss adds, for a challenger that starts as the champion: EWC (lambda/2 * sum F (w - w*)^2, over
    the rows the champion had) and/or LwF (alpha * T^2 * KL of the champion's softened outputs over its labels;
    per token where the task's targets are per token).
    Everything else is the task's own."""

    def __init__(
        self,
        task: LoopTask,
        model: torch.nn.Module,
        *,
        known_labels: int | None,
        fisher: dict[str, torch.Tensor] | None = None,
        ewc_lambda: float = 0.0,
        lwf_alpha: float = 0.0,
        temperature: float = 2.0,
    ) -> None:
        self._task, self.known = task, known_labels
        self.ewc_lambda, self.lwf_alpha, self.temperature = ewc_lambda, lwf_alpha, temperature
        self._anchors: list[tuple[torch.nn.Parameter, torch.Tensor, torch.Tensor]] = []
        if fisher:
            for name, param in model.named_parameters():
                if name in fisher and param.requires_grad:
                    rows = min(param.shape[0], fisher[name].shape[0]) if param.ndim else None
                    # A grown head: only the known labels' rows are anchored (new rows start random).
                    anchor = param.detach().clone()[:rows]
                    self._anchors.append((param, anchor, fisher[name][:rows].to(param.device)))
        self._teacher = copy.deepcopy(model).eval().requires_grad_(False) if lwf_alpha > 0 else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        captured: dict[str, torch.Tensor] = {}

        def keep_logits(module: torch.nn.Module, args: Any, output: Any) -> None:  # None: the output is unchanged
            captured.setdefault("logits", output.logits)

        handle = model.register_forward_hook(keep_logits)
        try:
            loss = self._task.loss(model, batch)
        finally:
            handle.remove()
        if self._teacher is not None and "logits" in captured:
            loss = loss + self.lwf_alpha * self._distillation(captured["logits"], batch)
        if self._anchors and self.ewc_lambda:
            penalty = sum(
                (f * (p[: a.shape[0]] - a) ** 2).sum() if p.ndim else (f * (p - a) ** 2).sum()
                for p, a, f in self._anchors
            )
            loss = loss + self.ewc_lambda / 2 * penalty
        return loss

    def _distillation(self, student: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {
            name: batch[name] for name in _MODEL_INPUTS if name in batch
        }  # packed rows: positions and blocks too
        with torch.no_grad():
            teacher = self._teacher(**inputs).logits
        t = self.temperature
        # A grown head: the champion's outputs are its first rows. None: the whole output (a causal LM's vocabulary).
        student, teacher = student[..., : self.known].float(), teacher[..., : self.known].float()
        if student.dim() == 3:  # per token (NER): the tokens that have a target, as the task's own loss reads them
            targets = (batch["labels"] != IGNORE).to(student.device)
            student, teacher = student[targets], teacher[targets]
            if not len(student):
                return student.sum() * 0.0
        kl = torch.nn.functional.kl_div(
            torch.log_softmax(student / t, -1),
            torch.log_softmax(teacher / t, -1),
            log_target=True,
            reduction="batchmean",
        )
        return kl * t * t
