"""The loop on a tiny BERT: it learns, keeps the best weights, stops early, and resumes exactly."""

from pathlib import Path

import pytest
import torch
from accelerate import Accelerator
from pydantic import TypeAdapter
from transformers import AutoTokenizer

from tuneforge.config import MethodConfig, TrainConfig
from tuneforge.methods import apply_method
from tuneforge.tasks.text_classification.task import TextClassification, build_classifier
from tuneforge.training.loop import TrainingInterrupted, fit

TEXTS = [f"order {i} refund please" for i in range(24)] + [f"where is parcel {i} now" for i in range(24)]
LABELS = ["refund"] * 24 + ["delivery"] * 24


def _setup(model_dir: Path, seed: int = 0, method: str = "full"):
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    task = TextClassification(tokenizer, ["refund", "delivery"], 16, None)
    block = TypeAdapter(MethodConfig).validate_python({"name": method})
    model = apply_method(build_classifier(str(model_dir), task.labels), block)
    return task, model, task.encode(TEXTS, LABELS)


def _fit(task, model, features, tmp: Path, cfg: TrainConfig, **kwargs):
    return fit(
        model,
        features,
        collate=task.collate,
        loss_fn=task.loss,
        evaluate=lambda m: task.evaluate(m, features[:16], batch_size=8, accelerator=None),
        cfg=cfg,
        ckpt_dir=tmp,
        accelerator=Accelerator(cpu=True),
        **kwargs,
    )


def test_learns_and_keeps_history(tiny_model_dir: Path, tmp_path: Path) -> None:
    task, model, features = _setup(tiny_model_dir)
    cfg = TrainConfig(epochs=6, batch_size=8, lr=2e-3, early_stopping=None)
    result = _fit(task, model, features, tmp_path, cfg)
    assert result.state.step == 36
    assert len(result.state.history) == 6
    assert result.state.history[-1]["accuracy"] == 1.0
    assert result.state.history[-1]["loss"] < result.state.history[0]["loss"]
    assert (tmp_path / "last" / "state.json").is_file()


def test_early_stopping_patience(tiny_model_dir: Path, tmp_path: Path) -> None:
    task, model, features = _setup(tiny_model_dir)
    # lr 0 never improves after the first evaluation: patience 2 stops at the third.
    cfg = TrainConfig(
        epochs=10, batch_size=8, lr=1e-12, early_stopping={"metric": "loss", "patience": 2, "min_delta": 0.01}
    )
    result = _fit(task, model, features, tmp_path, cfg)
    assert result.stopped_early
    assert len(result.state.history) == 3
    assert result.state.best_step == 6


@pytest.mark.parametrize("method", ["full", "lora", "prefix"])
def test_interrupt_then_resume_matches_uninterrupted(tiny_model_dir: Path, tmp_path: Path, method: str) -> None:
    cfg = TrainConfig(epochs=3, batch_size=8, grad_accum=2, lr=1e-3, eval_every=2, save_every=1, warmup_ratio=0.2)
    task, model, features = _setup(tiny_model_dir, method=method)
    straight = _fit(task, model, features, tmp_path / "a", cfg)
    reference = {k: v.clone() for k, v in model.state_dict().items()}

    task, model, features = _setup(tiny_model_dir, method=method)
    calls = 0

    def interrupting_loss(m, batch):
        nonlocal calls
        calls += 1
        if calls == 8:  # the middle of step 4: its first micro-batch already ran
            raise KeyboardInterrupt
        return task.loss(m, batch)

    with pytest.raises(TrainingInterrupted, match="step 3"):
        fit(
            model,
            features,
            collate=task.collate,
            loss_fn=interrupting_loss,
            evaluate=lambda m: task.evaluate(m, features[:16], batch_size=8, accelerator=None),
            cfg=cfg,
            ckpt_dir=tmp_path / "b",
            accelerator=Accelerator(cpu=True),
        )
    # A different seed gives a different head and adapter init: what was trained must come from disk.
    task, model, features = _setup(tiny_model_dir, seed=123, method=method)
    resumed = _fit(task, model, features, tmp_path / "b", cfg, resume=True)
    assert resumed.state.history == straight.state.history
    for key, param in model.named_parameters():
        if param.requires_grad:  # frozen copies (PEFT keeps the untrained head) are not checkpointed
            assert torch.equal(param, reference[key]), key


def test_token_targets_weigh_the_same_in_short_and_long_batches(tmp_path: Path) -> None:
    """Grouped batches of 1-target and 3-target examples: each batch's mean loss is scaled by its share of the
    targets, so a token's gradient does not depend on the batch it landed in."""
    model = torch.nn.Linear(1, 1, bias=False)
    targets = [1, 1, 3, 3]
    features = [{"input_ids": [0] * n, "labels": [5] * n} for n in targets]

    def collate(batch: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["labels"]) for f in batch)
        labels = [f["labels"] + [-100] * (width - len(f["labels"])) for f in batch]
        return {"input_ids": torch.zeros(len(batch), width, dtype=torch.long), "labels": torch.tensor(labels)}

    grads: list[float] = []
    fit(
        model,
        features,
        collate=collate,
        loss_fn=lambda m, batch: m.weight.sum(),  # every target's loss is w: d(mean)/dw = 1 for any batch
        evaluate=None,
        cfg=TrainConfig(epochs=1, batch_size=2, lr=1e-3, early_stopping=None, max_grad_norm=None),
        ckpt_dir=tmp_path,
        accelerator=Accelerator(cpu=True),
        after_step=lambda step, total: grads.append(float(model.weight.grad)),
    )
    # 2 targets per example on average, 4 per batch: the short batch holds 2 of them, the long one 6.
    assert sorted(grads) == pytest.approx([0.5, 1.5])
