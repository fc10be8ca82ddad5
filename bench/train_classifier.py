"""Training speed: tuneforge against HF Trainer, same model, data, hyper-parameters and seed, in one run.

Prints real (non-padding) training tokens per second and accuracy for each system and the ratios, and writes
a JSON result. Runs on SST-2 from ../shared/datasets (path via --data-dir or TUNEFORGE_DATASETS).

    python bench/train_classifier.py --train-samples 8000          # a quick look (about 10 min on 2 cores)
    python bench/train_classifier.py                               # the whole of SST-2, 1 epoch
    python bench/train_classifier.py --fp32 --threads 1 --train-samples 6000 \\
        --systems tuneforge,trainer-grouped,trainer                # as on a CPU without bf16 (the 1.1x bar)
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import torch
import yaml
from _systems import (  # bench/ is a folder of scripts
    TokenCounter,
    bench_parser,
    matched_train_block,
    parse_bench_args,
    report,
    run_systems,
    train_with_trainer,
)


def _read_sst2(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [r["sentence"] for r in rows], [r["label"] for r in rows]


def _subset(path: Path, n: int | None, seed: int, out: Path) -> Path:
    """A seeded sample of the training file (all of it when n is None), written as TSV for both systems."""
    texts, labels = _read_sst2(path)
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
        writer.writerow(["sentence", "label"])
        writer.writerows([texts[i], labels[i]] for i in order[:n])
    return out


def run_tuneforge(train: Path, dev: Path, args: argparse.Namespace, work: Path, system: str) -> dict[str, Any]:
    from tuneforge.config import load_config
    from tuneforge.tasks import train as run_training

    cfg_path = work / "tuneforge.yaml"
    cfg_path.write_text(
        yaml.safe_dump(
            {
                "model": args.model,
                # tuneforge-cls: the [CLS] head, whose last layer computes only the first token (mean pooling needs
                # every token of it), the faster choice on CPUs without bf16.
                "pooling": "cls" if system == "tuneforge-cls" else "auto",
                "data": {
                    "train": str(train),
                    "test": str(dev),
                    "text_column": "sentence",
                    "split": {"validation": 0.0},
                    "clean": {"normalize": False, "dedup": False},
                },
                "train": matched_train_block(args, system),
                "output_dir": str(work / "run"),
                "tracking": "none",
            }
        )
    )
    run_dir = run_training(load_config(cfg_path))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    train_stats = metrics["train"]
    # fit_seconds: the whole training call (checkpoints included), timed like trainer.train() below.
    return {
        "accuracy": metrics["test"]["accuracy"],
        "real_tokens": train_stats["real_tokens"],
        "train_seconds": train_stats["fit_seconds"],
    }


def run_trainer(train: Path, dev: Path, args: argparse.Namespace, work: Path, system: str) -> dict[str, Any]:
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
    )

    from tuneforge.models import resolve_model

    path = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    texts, labels = _read_sst2(train)
    label_names = sorted(set(labels))
    encoded = tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]
    dataset = [{"input_ids": x, "labels": label_names.index(y)} for x, y in zip(encoded, labels, strict=True)]
    counter = TokenCounter()
    padder = DataCollatorWithPadding(tokenizer)

    def collate(features: list[dict[str, Any]]) -> Any:
        counter(features)
        return padder(features)

    torch.manual_seed(args.seed)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(label_names))
    seconds = train_with_trainer(model, dataset, collate, args, work, system)
    dev_texts, dev_labels = _read_sst2(dev)
    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(dev_texts), 64):
            batch = tokenizer(
                dev_texts[start : start + 64],
                truncation=True,
                max_length=args.max_length,
                padding=True,
                return_tensors="pt",
            ).to(model.device)
            predicted = model(**batch).logits.argmax(-1).tolist()
            correct += sum(label_names[p] == y for p, y in zip(predicted, dev_labels[start : start + 64], strict=True))
    return {"accuracy": correct / len(dev_texts), "real_tokens": counter.tokens, "train_seconds": round(seconds, 2)}


def main() -> None:
    parser = bench_parser(__doc__, "sst2", lr=5e-5, max_length=64, output="bench/results/train_classifier.json")
    args = parse_bench_args(parser)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train = _subset(args.data_dir / "train.tsv", args.train_samples, args.seed, work / "train.tsv")
        dev = args.data_dir / "dev.tsv"
        results = run_systems(
            args.systems,
            partial(run_tuneforge, train, dev, args, work),
            partial(run_trainer, train, dev, args, work),
        )
    report(results, args, "accuracy")


if __name__ == "__main__":
    main()
