"""Training the challenger of a round through the shared loop: from the champion's weights (its head grown by
the new labels) on the round's data, with the strategy's penalties; or, from-scratch, from the base model on all
rows seen so far — the reference the other strategies are measured against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tuneforge.config import Config
from tuneforge.continual.state import read_examples
from tuneforge.continual.strategies import (
    HeadGrowth,
    Regularized,
    fisher_information,
    head_rows,
    load_fisher,
    save_fisher,
)
from tuneforge.errors import ConfigError
from tuneforge.rundir import read_manifest, run_config
from tuneforge.rundir.saved import saved_dir
from tuneforge.tasks.base import ContinualSpec
from tuneforge.training.task import LoopTask

__all__ = ["round_config", "round_tokenizer", "train_challenger"]


def round_tokenizer(run_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(saved_dir(run_dir, read_manifest(run_dir)))


def round_config(cfg: Config, champion: Path, plan: dict[str, Any], work: Path) -> Config:
    """`cfg` as the challenger's training run: the champion's model (a whole model, or its base when it saved an
    adapter that the round continues), method and pooling, the round's files (its test rows as the test split),
    the labels the champion knows followed by the new ones."""
    manifest, launched = read_manifest(champion), run_config(champion)
    adapter = saved_dir(champion, manifest).name != "model"
    if adapter and not (saved_dir(champion, manifest) / "adapter_config.json").is_file():
        raise ConfigError(
            f"{champion}: a {manifest.get('method')} run saves weights of its own format; continual rounds continue "
            "whole models and PEFT adapters: train the launch model with method full or lora"
        )
    if adapter and plan["new_labels"]:
        raise ConfigError(
            f"new labels ({', '.join(plan['new_labels'])}) would grow the head of {champion}, which is trained as "
            "part of its adapter; register a method: full run, or set continual.new_labels: reject"
        )
    from_scratch = plan["strategy"] == "from-scratch"
    files = plan["files"]
    data = cfg.data.model_copy(
        update={
            "train": Path(files["train"]),
            "validation": None,
            "test": Path(files["round_test"]),
            "format": "auto",
            "text_column": "text",
            "label_column": "label",
            "labels": plan["labels"] or None,
            "on_error": "skip",
            "clean": cfg.data.clean.model_copy(update={"dedup": False}),  # the round resolved duplicates itself
            "split": cfg.data.split.model_copy(update={"test": 0.0, "seed": cfg.data.split.seed + plan["round"]}),
        }
    )
    epochs = cfg.continual.epochs or cfg.train.epochs
    return cfg.model_copy(
        update={
            "model": launched.model if from_scratch or adapter else str(saved_dir(champion, manifest)),
            "task": launched.task,
            "method": launched.method,
            "pooling": manifest.get("pooling", launched.pooling),
            "head_init": "random",
            "extend_vocab": False,
            "data": data,
            "sft": launched.sft,
            "train": cfg.train.model_copy(update={"epochs": epochs}),
            "output_dir": work / "challenger",
        }
    )


def train_challenger(cfg: Config, spec: ContinualSpec, champion: Path, plan: dict[str, Any], work: Path) -> Path:
    from tuneforge.run import train_in_loop
    from tuneforge.tasks import with_main_metric
    from tuneforge.tasks.rules import check_config

    round_cfg = with_main_metric(check_config(round_config(cfg, champion, plan, work)))
    strategy, settings = plan["strategy"], cfg.continual
    manifest = read_manifest(champion)
    saved = saved_dir(champion, manifest)
    whole = saved.name == "model"
    known = head_rows(saved) if whole and spec.grows_head else 0
    growth = HeadGrowth(saved) if whole and spec.grows_head and strategy != "from-scratch" else None
    ewc, lwf = "ewc" in strategy, "lwf" in strategy

    def continue_from_champion(task: LoopTask, model: torch.nn.Module) -> LoopTask:
        if not whole and strategy != "from-scratch":
            _load_adapter(model, saved)
        if not (ewc or lwf):
            return task
        fisher = None
        if ewc:
            fisher = _fisher(cfg, spec, champion, plan, task, model, known, grown=growth.grown if growth else [])
        return Regularized(
            task,
            model,
            known_labels=known or None,
            fisher=fisher,
            ewc_lambda=settings.ewc.lambda_ if ewc else 0.0,
            lwf_alpha=settings.lwf.alpha if lwf else 0.0,
            temperature=settings.lwf.temperature,
        )

    resume = (work / "challenger.partial").is_dir()
    return train_in_loop(
        round_cfg, spec.loop_task(), resume=resume, init_head=growth, before_fit=continue_from_champion
    )


def _load_adapter(model: torch.nn.Module, adapter_dir: Path) -> None:
    """The champion's adapter weights into the fresh adapter of the same method: the round continues it."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    result = set_peft_model_state_dict(model, load_file(adapter_dir / "adapter_model.safetensors"))
    if unexpected := getattr(result, "unexpected_keys", None):
        raise ConfigError(f"{adapter_dir}: adapter weights that the round's method does not have: {unexpected[:3]}")


def _fisher(
    cfg: Config,
    spec: ContinualSpec,
    champion: Path,
    plan: dict[str, Any],
    task: LoopTask,
    model: torch.nn.Module,
    known: int,
    grown: list[str],
) -> dict[str, torch.Tensor]:
    """The champion's Fisher information on its replay rows, computed once and kept with it."""
    cache = champion / "continual" / "fisher.safetensors"
    if cache.is_file():
        return load_fisher(cache)
    rows = read_examples(Path(plan["files"]["replay"]), spec, cfg, round_tokenizer(champion))[0]
    fisher = fisher_information(model, task, rows[: cfg.continual.ewc.samples])
    fisher = {name: f[:known] if name in grown else f for name, f in fisher.items()}
    save_fisher(fisher, cache)
    return fisher
