"""A diverging run stops with TrainingDiverged and keeps its last good checkpoint; metrics.json stays strict JSON."""

import json
import math
from pathlib import Path

import pytest
import torch
from accelerate import Accelerator
from transformers import AutoTokenizer

from tuneforge.config import TrainConfig
from tuneforge.errors import TuneforgeError
from tuneforge.rundir import write_json
from tuneforge.tasks.text_classification.task import TextClassification, build_classifier
from tuneforge.training.loop import TrainingDiverged, fit

TEXTS = [f"order {i} refund please" for i in range(8)] + [f"where is parcel {i} now" for i in range(8)]
LABELS = ["refund"] * 8 + ["delivery"] * 8


def test_infinite_loss_stops_and_keeps_the_last_checkpoint(tiny_model_dir: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    task = TextClassification(AutoTokenizer.from_pretrained(tiny_model_dir), ["refund", "delivery"], 16, None)
    model = build_classifier(str(tiny_model_dir), task.labels)
    calls = 0

    def loss_inf_at_step_3(m: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        nonlocal calls
        calls += 1
        loss = task.loss(m, batch)
        return loss * math.inf if calls == 3 else loss

    cfg = TrainConfig(epochs=2, batch_size=4, lr=1e-3, save_every=1, eval_every=100, early_stopping=None)
    with pytest.raises(TrainingDiverged) as caught:
        fit(
            model,
            task.encode(TEXTS, LABELS),
            collate=task.collate,
            loss_fn=loss_inf_at_step_3,
            evaluate=None,
            cfg=cfg,
            ckpt_dir=tmp_path,
            accelerator=Accelerator(cpu=True),
        )
    message = str(caught.value)
    assert isinstance(caught.value, TuneforgeError)
    assert "step 3" in message and "train.lr" in message and "step 2" in message
    state = json.loads((tmp_path / "last" / "state.json").read_text())
    assert state["step"] == 2  # nothing was saved from the diverged step
    assert all(torch.isfinite(p).all() for p in model.parameters())  # its update was not applied


def test_write_json_turns_non_finite_floats_into_null(tmp_path: Path) -> None:
    write_json(tmp_path / "metrics.json", {"loss": math.nan, "history": [{"lr": math.inf}, -math.inf], "ok": 0.5})
    text = (tmp_path / "metrics.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"loss": None, "history": [{"lr": None}, None], "ok": 0.5}
