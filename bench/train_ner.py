"""NER training speed: tuneforge against HF Trainer, same model, data, hyper-parameters and seed, in one run.

The token-classification twin of bench/train_classifier.py. Prints real (non-padding) training tokens per second
and test entity F1 (seqeval, strict IOB2, the same function for both) for each system and the ratios, and writes
a JSON result. Runs on CoNLL-2003 from ../shared/datasets (path via --data-dir or TUNEFORGE_DATASETS).

The Trainer baseline is the usual recipe (run_ner.py): `is_split_into_words`, first sub-token labelled, the rest
-100, truncation at max_length, DataCollatorForTokenClassification.

    python bench/train_ner.py --train-samples 200 --test-samples 100   # smoke test (a minute on 2 cores)
    python bench/train_ner.py --train-samples 4000                     # a quick look
    python bench/train_ner.py                                          # all of CoNLL-2003 train, 1 epoch
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _systems import (  # noqa: E402  (bench/ is a folder of scripts)
    TokenCounter,
    bench_parser,
    matched_train_block,
    parse_bench_args,
    report,
    run_systems,
    train_with_trainer,
)


def _read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    sentences, words, tags = [], [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        fields = line.split()
        if not fields or fields[0] == "-DOCSTART-":
            if words:
                sentences.append((words, tags))
            words, tags = [], []
            continue
        words.append(fields[0])
        tags.append(fields[-1])
    return sentences


def _subset(path: Path, n: int | None, seed: int, out: Path) -> Path:
    """A seeded sample of sentences (all of them when n is None), written as two-column CoNLL for both systems."""
    sentences = _read_conll(path)
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    with out.open("w", encoding="utf-8") as handle:
        for i in sorted(order[:n]):
            words, tags = sentences[i]
            handle.writelines(f"{w} {t}\n" for w, t in zip(words, tags, strict=True))
            handle.write("\n")
    return out


def run_tuneforge(train: Path, test: Path, args: argparse.Namespace, work: Path, system: str) -> dict[str, Any]:
    from tuneforge.config import load_config
    from tuneforge.run import train as run_training

    cfg_path = work / "tuneforge.yaml"
    config = {
        "task": "token-classification",
        "model": args.model,
        "data": {
            "train": str(train),
            "test": str(test),
            "format": "conll",
            "split": {"validation": 0.0},
            "clean": {"dedup": False},
        },
        "train": matched_train_block(args, system),
        "output_dir": str(work / "run"),
        "tracking": "none",
    }
    cfg_path.write_text(yaml.safe_dump(config))
    run_dir = run_training(load_config(cfg_path))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    stats = metrics["train"]
    # fit_seconds: the whole training call (checkpoints included), timed like trainer.train() below.
    return {
        "entity_f1": metrics["test"]["entity_f1"],
        "real_tokens": stats["real_tokens"],
        "train_seconds": stats["fit_seconds"],
    }


def _encode(tokenizer: Any, sentences: list[tuple[list[str], list[str]]], tags: list[str], max_length: int) -> list:
    encoded = tokenizer([w for w, _ in sentences], is_split_into_words=True, truncation=True, max_length=max_length)
    dataset = []
    for row, (_, sentence_tags) in enumerate(sentences):
        word_ids, previous, labels = encoded.word_ids(row), None, []
        for word in word_ids:
            labels.append(-100 if word is None or word == previous else tags.index(sentence_tags[word]))
            previous = word
        dataset.append({"input_ids": encoded["input_ids"][row], "labels": labels, "word_ids": word_ids})
    return dataset


def _trainer_f1(model: Any, tokenizer: Any, test: Path, tags: list[str], max_length: int) -> dict[str, float]:
    """Test entity F1 of a Trainer model as run_ner.py users get it (each word's best tag; seqeval drops stray I-),
    and with tuneforge's valid-IOB2 decoding, which shows how much of a difference is decoding, not training."""
    from tuneforge.tasks.token_classification.metrics import entity_metrics
    from tuneforge.tasks.token_classification.task import decode_tags

    sentences = _read_conll(test)
    gold, best_tags, decoded = [], [], []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(sentences), 64):
            chunk = sentences[start : start + 64]
            batch = tokenizer(
                [w for w, _ in chunk],
                is_split_into_words=True,
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            )
            probabilities = model(**batch.to(model.device)).logits.float().softmax(-1).cpu().numpy()
            for row, (words, sentence_tags) in enumerate(chunk):
                word_p = np.zeros((len(words), len(tags)))
                word_p[:, 0] = 1.0  # words cut by truncation stay O
                previous = None
                for position, word in enumerate(batch.word_ids(row)):
                    if word is not None and word != previous:
                        word_p[word] = probabilities[row, position]
                    previous = word
                gold.append(sentence_tags)
                best_tags.append([tags[i] for i in word_p.argmax(-1)])
                decoded.append(decode_tags(word_p, tags)[0])
    return {
        "entity_f1": float(entity_metrics(gold, best_tags)["entity_f1"]),
        "entity_f1_valid_iob2_decoding": float(entity_metrics(gold, decoded)["entity_f1"]),
    }


def run_trainer(train: Path, test: Path, args: argparse.Namespace, work: Path, system: str) -> dict[str, Any]:
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
    )

    from tuneforge.models import resolve_model
    from tuneforge.tasks.token_classification.task import tag_set

    path = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    sentences = _read_conll(train)
    tags = tag_set(sorted({t[2:] for _, ts in sentences for t in ts if t != "O"}))
    dataset = _encode(tokenizer, sentences, tags, args.max_length)
    counter = TokenCounter()
    padder = DataCollatorForTokenClassification(tokenizer)

    def collate(features: list[dict[str, Any]]) -> Any:
        counter(features)
        return padder([{"input_ids": f["input_ids"], "labels": f["labels"]} for f in features])

    torch.manual_seed(args.seed)
    model = AutoModelForTokenClassification.from_pretrained(
        path, num_labels=len(tags), id2label=dict(enumerate(tags)), label2id={t: i for i, t in enumerate(tags)}
    )
    seconds = train_with_trainer(model, dataset, collate, args, work, system, remove_unused_columns=False)
    scores = _trainer_f1(model, tokenizer, test, tags, args.max_length)
    return {**scores, "real_tokens": counter.tokens, "train_seconds": round(seconds, 2)}


def main() -> None:
    parser = bench_parser(__doc__, "conll2003", lr=1e-4, max_length=128, output="bench/results/train_ner.json")
    parser.add_argument("--test-samples", type=int, default=None, help="Seeded sample of test.txt; default all.")
    args = parse_bench_args(parser)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train = _subset(args.data_dir / "train.txt", args.train_samples, args.seed, work / "train.conll")
        test = _subset(args.data_dir / "test.txt", args.test_samples, args.seed, work / "test.conll")
        results = run_systems(
            args.systems,
            partial(run_tuneforge, train, test, args, work),
            partial(run_trainer, train, test, args, work),
        )
    report(results, args, "entity_f1")


if __name__ == "__main__":
    main()
