"""`tuneforge export RUN_DIR --merge`: fold the trained weights into a plain Hugging Face model directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from rich import get_console

from tuneforge.errors import RunError
from tuneforge.methods.merging import check_mergeable, fold_weights
from tuneforge.rundir import check_output_dir, finalize, read_json, staging_dir

__all__ = ["merge_model", "merge_run"]


def merge_run(run_dir: Path, output: Path | None = None) -> Path:
    """`tuneforge export RUN_DIR --merge`: the run's model as a plain model dir, by default RUN_DIR/merged."""
    from tuneforge.tasks import load

    manifest = read_json(run_dir / "manifest.json")
    method = manifest.get("method", "full")
    check_mergeable(method)  # before the seconds spent loading
    output = output or run_dir / "merged"
    check_output_dir(output, kind="model")  # an existing folder is replaced only when it holds a model dir
    estimator = load(run_dir)
    if not hasattr(estimator, "tokenizer"):
        raise RunError(f"{run_dir} holds a {manifest.get('task')} run, which has no transformers model to merge")
    output = merge_model(estimator.model, estimator.tokenizer, method, output)
    get_console().print(f"merged {method} model written to [bold]{output}[/]")
    return output


def merge_model(model: torch.nn.Module, tokenizer: Any, method: str, output: Path) -> Path:
    """Write `model` (a loaded run) as a plain model dir at `output`, with LoRA/AdaLoRA/IA3 folded into the weights.

    The result loads with `AutoModelForSequenceClassification.from_pretrained(output)` (NER runs: the
    `...ForTokenClassification` class) and needs neither PEFT nor tuneforge. Methods that add computation a plain
    model cannot express raise RunError. An existing `output` is replaced only when it is empty or a model dir (it
    holds config.json); a run directory or anyone's other files are refused (`rundir.check_output_dir`).
    """
    check_output_dir(output, kind="model")  # before folding; staging_dir checks again
    model = fold_weights(model, method)
    staging = staging_dir(output, resume=False, kind="model")
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    finalize(staging, output, kind="model")
    return output
