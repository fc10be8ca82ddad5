"""`tuneforge export RUN_DIR --merge`: fold the trained weights into a plain Hugging Face model directory."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch
from rich import get_console

from tuneforge.errors import RunError
from tuneforge.methods.merging import check_mergeable, fold_weights
from tuneforge.rundir import finalize, read_json

__all__ = ["merge_model", "merge_run"]


def merge_run(run_dir: Path, output: Path | None = None) -> Path:
    """`tuneforge export RUN_DIR --merge`: the run's model as a plain model dir, by default RUN_DIR/merged."""
    from tuneforge.tasks import load

    manifest = read_json(run_dir / "manifest.json")
    method = manifest.get("method", "full")
    check_mergeable(method)  # before the seconds spent loading
    estimator = load(run_dir)
    if not hasattr(estimator, "tokenizer"):
        raise RunError(f"{run_dir} holds a {manifest.get('task')} run, which has no transformers model to merge")
    output = merge_model(estimator.model, estimator.tokenizer, method, output or run_dir / "merged")
    get_console().print(f"merged {method} model written to [bold]{output}[/]")
    return output


def merge_model(model: torch.nn.Module, tokenizer: Any, method: str, output: Path) -> Path:
    """Write `model` (a loaded run) as a plain model dir at `output`, with LoRA/AdaLoRA/IA3 folded into the weights.

    The result loads with `AutoModelForSequenceClassification.from_pretrained(output)` (NER runs: the
    `...ForTokenClassification` class) and needs neither PEFT nor tuneforge. Methods that add computation a plain
    model cannot express raise RunError.
    """
    model = fold_weights(model, method)
    staging = output.with_name(output.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    finalize(staging, output)
    return output
