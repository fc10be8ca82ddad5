"""`tuneforge compare CONFIG --methods full,lora,...`: one run per method with the same data, seed and budget,
then a table (compare.md, compare.csv) and a bar chart (compare.png) under `<output_dir>/compare/`.

Each method trains in its own process, so that its peak memory (RSS, from the kernel's rusage of that process)
is its own. Finished methods are not retrained: run the same command again after an interruption, or with more
methods, and only the missing ones train. A method interrupted midway starts over, so its timings stay clean.

Learning rates: full and freeze use `train.lr`; the other methods default to the rate usual for them (RECOMMENDED_LR,
10-1000x higher, since they train few weights from scratch), unless `--lr METHOD=VALUE` says otherwise. The table
shows the rate each method used.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from rich import get_console

from tuneforge.config import Config
from tuneforge.errors import ConfigError, TuneforgeError
from tuneforge.rundir import read_json, write_json, write_text

__all__ = ["RECOMMENDED_LR", "compare"]

# Peak AdamW rates commonly used with each method on BERT-size encoders (LoRA, Hu et al. 2021: 4e-4-5e-4;
# IA3, Liu et al. 2022: 3e-3; BitFit, Ben Zaken et al. 2022: 1e-3; adapters, Houlsby et al. 2019: 1e-3;
# prompt and prefix tuning: 1e-2 and above, Lester et al. 2021, Li & Liang 2021).
RECOMMENDED_LR: dict[str, float] = {
    "bitfit": 1e-3,
    "lora": 5e-4,
    "adalora": 1e-3,
    "ia3": 5e-3,
    "prefix": 1e-2,
    "prompt": 3e-2,
    "ptuning": 1e-2,
    "adapter": 1e-3,
    "setfit": 2e-5,  # SetFit's body_learning_rate for its contrastive phase
}

_COLUMNS = {  # key -> markdown header
    "method": "method",
    "metric": "main metric",
    "accuracy": "accuracy",
    "macro_f1": "macro F1",
    "trainable_parameters": "trainable params",
    "trainable_percent": "trainable %",
    "train_seconds": "train time (s)",
    "tokens_per_second": "real tokens/s",
    "peak_rss_mb": "peak RSS (MB)",
    "saved_mb": "saved size (MB)",
    "lr": "lr",
}


def compare(cfg: Config, methods: list[str], lrs: dict[str, float] | None = None) -> Path:
    """Train every method of `methods` not yet finished, then write the comparison; return its folder."""
    from tuneforge.tasks import TASKS

    known = list(TASKS[cfg.task].methods)
    unknown = [m for m in [*methods, *(lrs or {})] if m not in known]
    if unknown or not methods:
        raise ConfigError(f"unknown method(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}")
    root = cfg.output_dir / "compare"
    failed = []
    for method in methods:
        if _finished(root, method):
            get_console().print(f"[bold]{method}[/]: already trained in {root / method}, kept")
            continue
        get_console().print(f"[bold]{method}[/]: training into {root / method}")
        if not _train(root, _method_config(cfg, method, root, lrs or {})):
            failed.append(method)
    rows = [_row(root, m) for m in methods if m not in failed]
    _write_table(root, rows, title=f"{cfg.output_dir.name}: {len(rows)} methods, same data, seed and budget")
    get_console().print(f"comparison written to [bold]{root}[/] (compare.md, compare.csv, compare.png)")
    if failed:
        raise TuneforgeError(
            f"training failed for {', '.join(failed)}; see the output above; the table leaves them out"
        )
    return root


def _method_config(cfg: Config, method: str, root: Path, lrs: dict[str, float]) -> Config:
    raw = cfg.model_dump(mode="json")
    raw["method"] = raw["method"] if cfg.method.name == method else {"name": method}
    raw["train"]["lr"] = lrs.get(method, RECOMMENDED_LR.get(method, cfg.train.lr))
    raw["output_dir"] = str(root / method)
    return Config.model_validate(raw)


def _finished(root: Path, method: str) -> bool:
    return (root / method / "manifest.json").is_file() and (root / f"{method}.measured.json").is_file()


def _train(root: Path, cfg: Config) -> bool:
    """Train in a child process; record its wall time and peak RSS. False if it failed."""
    method = cfg.method.name
    config = root / "configs" / f"{method}.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    write_text(config, yaml.safe_dump(cfg.model_dump(mode="json"), allow_unicode=True, sort_keys=False))
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "tuneforge", "train", str(config)])
    try:
        _, status, usage = os.wait4(child.pid, 0)  # rusage of this child alone, unlike RUSAGE_CHILDREN
    except BaseException:
        child.kill()
        raise
    if os.waitstatus_to_exitcode(status) != 0:
        return False
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    measured = {"peak_rss_bytes": peak, "process_seconds": round(time.perf_counter() - started, 2), "lr": cfg.train.lr}
    write_json(root / f"{method}.measured.json", measured)
    return True


def _row(root: Path, method: str) -> dict[str, Any]:
    metrics = read_json(root / method / "metrics.json")
    manifest = read_json(root / method / "manifest.json")
    measured = read_json(root / f"{method}.measured.json")
    split = "test" if "test" in metrics else "validation"
    train = metrics["train"]
    return {
        "method": method,
        "metric": f"{split} accuracy",
        "accuracy": round(metrics[split]["accuracy"], 4),
        "macro_f1": round(metrics[split]["macro_f1"], 4),
        "trainable_parameters": train["trainable_parameters"],
        "trainable_percent": round(100 * train["trainable_parameters"] / train["total_parameters"], 3),
        "train_seconds": train["fit_seconds"],
        "tokens_per_second": train["tokens_per_second"],
        "peak_rss_mb": round(measured["peak_rss_bytes"] / 2**20, 1),
        "saved_mb": round(manifest["saved_bytes"] / 2**20, 3),
        "lr": measured["lr"],
    }


def _write_table(root: Path, rows: list[dict[str, Any]], title: str) -> None:
    from tuneforge.evaluate.plots import plot_comparison

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(root / "compare.csv", buffer.getvalue())
    lines = [
        f"# Method comparison: {title}",
        "",
        "| " + " | ".join(_COLUMNS.values()) + " |",
        "|" + "---|" * len(_COLUMNS),
        *("| " + " | ".join(str(row[k]) for k in _COLUMNS) + " |" for row in rows),
        "",
        "Train time: optimiser steps plus evaluations. Real tokens/s: non-padding tokens per second of optimiser "
        "steps. Peak RSS: the whole training process. Saved size: the run's model/ or adapter/ folder, "
        "tokenizer included.",
        "",
        "![comparison](compare.png)",
        "",
    ]
    write_text(root / "compare.md", "\n".join(lines))
    panels = {
        "accuracy": rows[0]["metric"] if rows else "accuracy",
        "trainable_percent": "trainable parameters (%)",
        "train_seconds": "train time (s)",
        "peak_rss_mb": "peak RSS (MB)",
        "saved_mb": "saved size (MB)",
    }
    plot_comparison(rows, panels, root / "compare.png", title)
