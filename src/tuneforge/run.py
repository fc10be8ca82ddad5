"""The pipeline of the tasks that train through the shared loop, one call per stage: data → task and model →
method → training → evaluation → run directory. Each task's row in TASKS calls it with its own `LoopTask` class;
nothing here names a task."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import set_seed
from rich import get_console
from rich.markup import escape

from tuneforge.config import Config, TrainConfig
from tuneforge.data import PreparedData
from tuneforge.evaluate.plots import plot_learning_curve
from tuneforge.methods import METHODS, apply_method, count_parameters, step_hook
from tuneforge.models import resolve_model
from tuneforge.precision import cpu_has_native_bf16
from tuneforge.rundir import finish_run, staging_dir, write_inputs, write_json, write_text
from tuneforge.rundir.saved import save_model
from tuneforge.track.mlflow import NullTracker, start_tracking
from tuneforge.training.loop import FitResult, fit
from tuneforge.training.task import HeadInit, LoopTask, SelfFitting
from tuneforge.vocab import coverage_warning, extend_vocabulary

__all__ = ["check_loop_data", "model_warnings", "train_in_loop"]

_TRAIN_KEYS = ("epoch", "train_loss", "lr")  # per-evaluation record keys that are not validation scores


def _tokenizer(cfg: Config) -> Any:
    from transformers import AutoTokenizer

    from tuneforge.gguf_cache import (
        hf_dir,  # a GGUF model: its dequantised copy, which holds the tokenizer
    )

    return AutoTokenizer.from_pretrained(hf_dir(resolve_model(cfg.model)))


def check_loop_data(cfg: Config, task_cls: type[LoopTask]) -> PreparedData:
    """Validate and profile the data of a loop task; raises DataError under `on_error: fail` when rows are bad."""
    tokenizer = _tokenizer(cfg)
    data = task_cls.prepare_data(cfg, tokenizer)
    _check_vocabulary(cfg, tokenizer, data)
    return data


def _check_vocabulary(cfg: Config, tokenizer: Any, data: PreparedData) -> list[str]:
    """Warn in the data report about text the tokenizer cannot represent; with extend_vocab, add it as tokens."""
    # Texts and NER sentences have `.text`; chats (causal-lm-sft) are checked turn by turn.
    texts = [
        turn["content"]
        for example in data.train
        for turn in (example.messages if hasattr(example, "messages") else [{"content": example.text}])
    ]
    if warning := coverage_warning(tokenizer, texts, cfg.model):
        data.report.warnings.append(warning)
    if not cfg.extend_vocab:
        return []
    added = extend_vocabulary(tokenizer, texts)
    data.report.warnings.append(f"extend_vocab: added {len(added):,} tokens seen at least twice in train")
    return added


def _write_outputs(run_dir: Path, cfg: Config, task: LoopTask, results: dict[str, Any]) -> None:
    # A confusion matrix of 150 classes takes minutes to draw: say what is going on.
    get_console().print("writing plots, metrics.json and report.md…", markup=False, highlight=False)
    plots = task.plots(run_dir, results)
    if results.get("history"):
        metric = (cfg.train.early_stopping.metric if cfg.train.early_stopping else None) or task.main_metric
        plot_learning_curve(results["history"], run_dir / "learning_curve.png", metric)
        plots["Learning curve"] = "learning_curve.png"
    write_json(run_dir / "metrics.json", results)
    report = task.render_report(f"{cfg.task}: {cfg.output_dir.name}", results, plots)
    for section in ("notes", "warnings"):
        if results.get(section):
            items = "".join(f"- {item}\n" for item in results[section])
            report = report.rstrip("\n") + f"\n\n## {section.capitalize()}\n\n" + items
    write_text(run_dir / "report.md", report)


def train_in_loop(
    cfg: Config,
    task_cls: type[LoopTask],
    *,
    resume: bool = False,
    self_fitting: SelfFitting | None = None,
    init_head: HeadInit | None = None,
    before_fit: Callable[[LoopTask, torch.nn.Module], LoopTask] | None = None,
) -> Path:
    """Run the whole pipeline for `cfg` and return the finished run directory.

    `self_fitting`: a zero-/few-shot method that builds its model its own way instead of the loop; `init_head`
    starts the new head before the method is applied (text classification's linear probe, a continual round's
    grown head); `before_fit(task, model)` runs once the method is applied and returns the task whose loss
    training minimises (a continual round loads the champion's adapter and adds its penalties against forgetting).
    """
    cfg = cfg.model_copy(update={"train": _with_batching(cfg, task_cls)})  # what the run did, in its config.yaml too
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    # cpu=True lets Accelerate run DDP over gloo when launched with several processes on a machine without GPUs.
    # One process may train several times with different precisions (compare, benches); Accelerate keeps the first
    # unless its state is reset, as HF Trainer does too. The distributed state (PartialState) is kept.
    AcceleratorState._reset_state()
    accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=_precision(cfg.train.mixed_precision))
    set_seed(cfg.train.seed)
    tokenizer = _tokenizer(cfg)
    data = task_cls.prepare_data(cfg, tokenizer)
    added_tokens = _check_vocabulary(cfg, tokenizer, data)
    main = accelerator.is_main_process
    if main:
        get_console().print(data.report.render())
        staging = staging_dir(cfg.output_dir, resume=resume)
        write_inputs(staging, cfg, data.report.to_dict(), data.report.to_markdown(), data.rejected)
    accelerator.wait_for_everyone()
    run_dir = cfg.output_dir.with_name(cfg.output_dir.name + ".partial")

    few_shot = self_fitting
    notes: list[str] = []
    head: dict[str, Any] | None = None  # what init_head found (the probe's C, a grown head's rows)
    tracker = start_tracking(cfg, run_dir) if main else NullTracker()
    try:
        if few_shot:
            fitted = few_shot.fit(cfg, data, run_dir, accelerator, resume)
            task, model, result, fit_seconds = fitted.task, fitted.model, fitted.result, fitted.seconds
        else:
            task = task_cls.for_training(cfg, tokenizer, data)
            model = task.build_model(resolve_model(cfg.model))
            if added_tokens:  # new rows start at the mean embedding (transformers' default), then train
                model.resize_token_embeddings(len(tokenizer))
            if init_head:  # before the method: PEFT copies the head it finds into what it trains
                eval_batch = cfg.train.eval_batch_size or 2 * cfg.train.batch_size
                head = init_head(model, task, data.train, data.validation, batch_size=eval_batch)
            notes = list(getattr(model, "tuneforge_notes", []))  # e.g. a checkpoint's head rebuilt for our labels
            model = apply_method(model, cfg.method)
            if before_fit:
                task = before_fit(task, model)
            result, fit_seconds = _fit(cfg, task, model, data, run_dir, accelerator, tracker, resume=resume)
    except BaseException:
        tracker.end("KILLED")  # interrupted or crashed; a --resume continues this MLflow run
        raise
    if not main:
        return cfg.output_dir
    model = accelerator.unwrap_model(model, keep_fp32_wrapper=False)  # final metrics as a reloaded model gives them
    results = _final_metrics(cfg, task, model, data)
    if warnings := model_warnings(task, results):
        results["warnings"] = warnings
    if notes:
        results["notes"] = notes
    results["train"] = _training_summary(result, fit_seconds, model) | {"mixed_precision": accelerator.mixed_precision}
    if head:
        results["train"]["head_init"] = head
    results["history"] = result.state.history
    # model/, or adapter/ for PEFT methods; self-fitting methods save their own (text classification: fewshot/)
    saved = (
        few_shot.save(fitted, run_dir, cfg)
        if few_shot
        else save_model(model, tokenizer, run_dir, cfg.method, cfg.model)
    )
    _write_outputs(run_dir, cfg, task, results)
    # The model kept is the best one: its validation scores are logged apart from the per-evaluation history.
    for split, prefix in (("validation", "best_validation"), ("test", "test")):
        if split in results:
            tracker.log_metrics({f"{prefix}_{k}": v for k, v in results[split].items() if isinstance(v, float)})
    finish_run(run_dir, cfg.output_dir, {**_manifest(cfg, task), **saved}, tracker)
    _print_summary(cfg.output_dir, task, results, saved.get("saved_dir", "model"))
    return cfg.output_dir


def _fit(
    cfg: Config,
    task: LoopTask,
    model: torch.nn.Module,
    data: PreparedData,
    run_dir: Path,
    accelerator: Accelerator,
    tracker: NullTracker,
    *,
    resume: bool,
) -> tuple[FitResult, float]:
    eval_batch = cfg.train.eval_batch_size or 2 * cfg.train.batch_size
    validation = task.encode_examples(data.validation)

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        return task.evaluate(m, validation, batch_size=eval_batch, accelerator=accelerator)

    def on_eval(record: dict[str, Any]) -> None:
        if not accelerator.is_main_process:
            return
        shown = ", ".join(
            f"{k} {v:.4f}" for k, v in record.items() if isinstance(v, float) and k not in ("epoch", "lr")
        )
        get_console().print(f"[bold]eval[/] step {record['step']} (epoch {record['epoch']}): {shown}")
        metrics = {k if k in _TRAIN_KEYS else f"validation_{k}": v for k, v in record.items() if k != "step"}
        tracker.log_metrics(metrics, step=record["step"])

    started = time.perf_counter()
    result = fit(
        model,
        task.encode_examples(data.train),
        collate=task.pack_collate if cfg.train.packing else task.collate,  # type: ignore[attr-defined]
        loss_fn=task.loss,
        evaluate=evaluate if validation else None,
        cfg=cfg.train,
        ckpt_dir=run_dir / "checkpoints",
        accelerator=accelerator,
        resume=resume,
        on_eval=on_eval,
        after_step=step_hook(model, cfg.method),
    )
    return result, time.perf_counter() - started


def _with_batching(cfg: Config, task: type[LoopTask]) -> TrainConfig:
    """cfg.train with packing and group_by_length decided where they were left null (auto).

    Packed batches come in random order: packing already removes the padding, and length-sorted batches cost
    quality. On the demo chats they put short Chinese and long English chats apart, which raised held-out loss from
    0.87 to 1.29 (bench/train_sft.py, 164 chats, 2 epochs); on CoNLL-2003 HF Trainer's grouping cost 1 entity-F1
    point after one epoch, ours 0.2-0.3 (bench/train_ner.py).
    """
    # train.packing: true where it cannot be is refused by the config rules (tasks/rules.py).
    can_pack = hasattr(task, "pack_collate") and not METHODS[cfg.method.name].virtual_tokens
    packing = can_pack if cfg.train.packing is None else cfg.train.packing
    grouped = not packing if cfg.train.group_by_length is None else cfg.train.group_by_length
    return cfg.train.model_copy(update={"packing": packing, "group_by_length": grouped})


def _final_metrics(cfg: Config, task: LoopTask, model: torch.nn.Module, data: PreparedData) -> dict[str, Any]:
    eval_batch = cfg.train.eval_batch_size or 2 * cfg.train.batch_size
    results: dict[str, Any] = {"labels": data.labels}
    for split, examples in (("validation", data.validation), ("test", data.test)):
        if examples:
            # The task's own bar follows (its batches, answers); this line says which split it is.
            get_console().print(f"evaluating {split} ({len(examples)} examples)…", markup=False, highlight=False)
            started = time.perf_counter()
            results[split] = task.evaluate_examples(model, examples, batch_size=eval_batch)
            get_console().print(
                f"evaluated {split} in {time.perf_counter() - started:.0f}s", markup=False, highlight=False
            )
    return results


def model_warnings(task: LoopTask, results: dict[str, Any]) -> list[str]:
    """What the task finds wrong with the trained model's final scores (one class for every text, no entities).

    `warnings(results)` is an optional hook of a LoopTask: a task without one (chat SFT) has none to give.
    """
    hook = getattr(task, "warnings", None)
    return list(hook(results)) if hook else []


def _training_summary(result: FitResult, fit_seconds: float, model: torch.nn.Module) -> dict[str, Any]:
    state = result.state
    trainable, total = count_parameters(model)
    return {
        "steps": state.step,
        "best_step": state.best_step,
        "stopped_early": result.stopped_early,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "real_tokens": state.train_tokens,
        "train_seconds": round(state.train_seconds, 2),  # optimiser steps only
        "tokens_per_second": round(state.train_tokens / max(state.train_seconds, 1e-9), 1),
        "fit_seconds": round(fit_seconds, 2),  # steps plus evaluations and checkpoints
    }


def _precision(choice: str) -> str:
    if choice != "auto":
        return choice
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_native_bf16() else "no"


def _manifest(cfg: Config, task: LoopTask) -> dict[str, Any]:
    import transformers

    return {
        "task": cfg.task,
        "model": cfg.model,
        "method": cfg.method.name,
        **task.manifest(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }


def _print_summary(run_dir: Path, task: LoopTask, results: dict[str, Any], saved_dir: str) -> None:
    console = get_console()
    for split in ("validation", "test"):
        if split in results:
            console.print(f"[bold green]{split}[/]: {task.headline(results[split])} ({results[split]['size']} texts)")
    for note in results.get("notes", []):
        console.print(f"[bold]note:[/] {escape(note)}")
    for warning in results.get("warnings", []):
        console.print(f"[bold yellow]warning:[/] {escape(warning)}")
    console.print(f"run saved to [bold]{run_dir}[/] (report.md, metrics.json, {saved_dir}/)")
