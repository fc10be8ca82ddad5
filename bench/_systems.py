"""What the training benches share: run each system in turn, then print and write the comparison."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

# The -bf16 Trainers show how much of tuneforge's lead is its bf16 default on CPUs with bf16 instructions;
# tuneforge-fp32 (any bench) shows the loop's own gain; --fp32 runs every system in fp32, as CPUs without bf16 do.
SYSTEMS = ("tuneforge", "trainer", "trainer-grouped", "trainer-bf16", "trainer-grouped-bf16")


def matched_train_block(args: argparse.Namespace, system: str) -> dict[str, Any]:
    """tuneforge's `train:` block set to what HF Trainer does by default: no weight decay, warm-up or early stop."""
    return {
        "mixed_precision": "no" if args.fp32 or system.endswith("-fp32") else "auto",
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "max_length": args.max_length,
        "seed": args.seed,
        "weight_decay": 0.0,
        "warmup_ratio": 0.0,
        "early_stopping": None,
        "threads": args.threads,
    }


def train_with_trainer(
    model: torch.nn.Module,
    dataset: Any,
    collate: Any,
    args: argparse.Namespace,
    work: Path,
    system: str,
    **extra: Any,
) -> float:
    """Train with HF Trainer at its defaults plus the bench's batch size, lr, epochs and seed; returns seconds.

    system "trainer-grouped" turns on Trainer's own length grouping, the fairest baseline for our length-grouped
    batches; a "-bf16" suffix turns on its bf16 autocast.
    """
    from transformers import Trainer, TrainingArguments

    grouped = system.startswith("trainer-grouped")
    training_args = TrainingArguments(
        output_dir=str(work / system),
        bf16=system.endswith("-bf16") and not args.fp32,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.lr,
        num_train_epochs=args.epochs,
        seed=args.seed,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        logging_steps=50,
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=True,
        **({"train_sampling_strategy": "group_by_length"} if grouped else {}),
        **extra,
    )
    trainer = Trainer(model=model, args=training_args, train_dataset=dataset, data_collator=collate)
    started = time.perf_counter()
    trainer.train()
    return time.perf_counter() - started


def bench_parser(doc: str, dataset: str, *, lr: float, max_length: int, output: str) -> argparse.ArgumentParser:
    """The options every training bench takes; data sets come from ../shared/datasets or $TUNEFORGE_DATASETS."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_data = Path(os.environ.get("TUNEFORGE_DATASETS", Path(__file__).resolve().parents[2] / "shared/datasets"))
    parser.add_argument("--data-dir", type=Path, default=default_data / dataset)
    parser.add_argument("--train-samples", type=int, default=None, help="Seeded sample of the training file.")
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--max-length", type=int, default=max_length)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"Comma-separated subset of {SYSTEMS}.")
    parser.add_argument("--output", type=Path, default=Path(output))
    parser.add_argument("--threads", type=int, default=None, help="torch threads for every system; default all.")
    parser.add_argument(
        "--fp32", action="store_true", help="Every system in fp32 (tuneforge mixed_precision: no, Trainer bf16 off)."
    )
    return parser


def parse_bench_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse, then set what every system shares: torch threads, offline hub, quiet transformers logging."""
    args = parser.parse_args()
    if args.fp32 and "bf16" in args.systems:
        parser.error(f"--fp32 runs every system in fp32; drop the -bf16 systems from --systems {args.systems}")
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging

    logging.set_verbosity_error()
    return args


class TokenCounter:
    """Counts the real tokens of every training batch the Trainer runs."""

    def __init__(self) -> None:
        self.tokens = 0

    def __call__(self, features: list[dict[str, Any]]) -> None:
        self.tokens += sum(len(f["input_ids"]) for f in features)


def run_systems(
    systems: str, tuneforge: Callable[[str], dict[str, Any]], trainer: Callable[[str], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """`tuneforge(system)` or `trainer(system)` for each comma-separated system, by its name; each result gains
    its real tokens per second."""
    results = {}
    for system in systems.split(","):
        print(f"== {system}", flush=True)
        result = (tuneforge if system.startswith("tuneforge") else trainer)(system)
        result["tokens_per_second"] = round(result["real_tokens"] / result["train_seconds"], 1)
        results[system] = result
        print(f"{system}: {result}", flush=True)
    return results


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, metric: str) -> dict[str, Any]:
    """Print the table, the speed-ups of tuneforge and its `metric` deltas; write them as JSON to args.output."""
    summary: dict[str, Any] = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "threads": torch.get_num_threads(),
        "results": results,
    }
    for name, ours in results.items():
        if not name.startswith("tuneforge"):
            continue
        prefix = "" if name == "tuneforge" else f"{name}_"  # e.g. tuneforge-packed in bench/train_sft.py
        for base in SYSTEMS[1:]:
            if base in results:
                speedup = ours["tokens_per_second"] / results[base]["tokens_per_second"]
                summary[f"{prefix}speedup_vs_{base}"] = round(speedup, 3)
                summary[f"{prefix}{metric}_delta_vs_{base}"] = round(ours[metric] - results[base][metric], 4)
    print(f"\nsystem            tokens/s   {metric:<11} train s")
    for system, r in results.items():
        print(f"{system:<16} {r['tokens_per_second']:>9.1f}   {r[metric]:<11.4f} {r['train_seconds']:>8.1f}")
    for key, value in summary.items():
        if "speedup" in key or f"{metric}_delta" in key:
            print(f"{key}: {value}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2))
    print(f"written {args.output}")
    return summary
