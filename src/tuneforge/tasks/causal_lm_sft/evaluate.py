"""`tuneforge evaluate` for causal-lm-sft runs: a new chat file scored as training scores its test split.

The file is read and validated by training's own chat reader (same formats, file:line errors, over-length
policy, `data.on_error`), and scored by the task's own `evaluate_examples`: loss and perplexity per answer
token, ROUGE-L and exact match of answers generated with the run's `sft.generation` to the first
`sft.eval_answers` questions, each for the tuned and the base model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from rich import get_console
from rich.table import Table as RichTable

from tuneforge.config import Config, DataConfig, SplitConfig
from tuneforge.errors import RunError
from tuneforge.rundir import run_config, write_evaluation
from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel
from tuneforge.tasks.causal_lm_sft.task import CausalLMSft

__all__ = ["evaluate_chat_file"]


def _evaluation_config(cfg: Config, source: Path) -> Config:
    """The run's config reading `source` alone, every row kept for evaluation (no split, no dedup)."""
    data = DataConfig(
        train=source,
        split=SplitConfig(validation=0, test=0),
        on_error=cfg.data.on_error,
        clean=cfg.data.clean.model_copy(update={"dedup": False}),
    )
    return cfg.model_copy(update={"data": data})


def evaluate_chat_file(chat: ChatModel, source: Path) -> dict[str, Any]:
    """Score a run's model on the conversations of `source`; writes RUN/evaluations/<name>/ metrics.json and
    report.md.

    >>> evaluate_chat_file(ChatModel.load("runs/support-sft"), Path("new_qa.jsonl"))["rouge_l"]  # doctest: +SKIP
    """
    if chat.run_dir is None:
        raise RunError("evaluate needs a causal-lm-sft run directory (its config says how to read and score chats)")
    run_dir = chat.run_dir
    cfg = run_config(run_dir)
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    prepared = CausalLMSft.prepare_data(_evaluation_config(cfg, source), chat.tokenizer)
    task = CausalLMSft(chat.tokenizer, cfg.train.max_length, cfg.sft, cfg.model)
    batch_size = cfg.train.eval_batch_size or 2 * cfg.train.batch_size  # as training's final evaluation
    results = task.evaluate_examples(chat.model, prepared.train, batch_size=batch_size)
    results["rejected_rows"] = [str(r) for r in prepared.rejected]
    metrics = {"test": results, "generation": cfg.sft.generation.model_dump(mode="json")}
    out = write_evaluation(
        run_dir, source, metrics, task.render_report(f"evaluation on {source.name}", {"test": results})
    )
    _print_scores(source, results, out)
    return results


def _print_scores(source: Path, results: dict[str, Any], out: Path) -> None:
    table = RichTable("model", "loss", "perplexity", "ROUGE-L", "exact match", title=source.name)
    for model, prefix in (("base", "base_"), ("tuned", "")):
        scores = [results.get(prefix + key) for key in ("loss", "perplexity", "rouge_l", "exact_match")]
        table.add_row(model, *("-" if s is None else f"{s:.4f}" for s in scores))
    console = get_console()
    console.print(table)
    console.print(
        f"{results['size']} conversations ({len(results['rejected_rows'])} rejected), "
        f"{results['answered']} answered (sft.eval_answers); report in {out}"
    )
