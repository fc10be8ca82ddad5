"""Chat fine-tuning speed: tuneforge against HF Trainer, same model, LoRA settings, data and seed, in one run.

Both train SmolLM2-135M-Instruct (or --model) with LoRA on the same chat examples with the same loss mask
(assistant tokens only); prints real (non-padding) training tokens per second and held-out loss per answer
token, and the ratios, and writes a JSON result. Data: the bundled demo set (--data), split here with a seed.

    python bench/train_sft.py --epochs 1                     # about 10 min on 2 shared cores
"""

from __future__ import annotations

import argparse
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

SYSTEMS = "tuneforge,tuneforge-padded,trainer,trainer-bf16,trainer-grouped-bf16"
LORA = {"name": "lora", "r": 16, "alpha": 32, "dropout": 0.05}


def _split(data: Path, seed: int, train_samples: int | None, work: Path) -> tuple[Path, Path]:
    """A seeded fifth of the conversations for held-out loss; the rest (or `train_samples` of it) to train on."""
    lines = [line for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(lines)
    cut = len(lines) // 5
    (work / "test.jsonl").write_text("\n".join(lines[:cut]) + "\n", encoding="utf-8")
    (work / "train.jsonl").write_text("\n".join(lines[cut:][:train_samples]) + "\n", encoding="utf-8")
    return work / "train.jsonl", work / "test.jsonl"


def run_tuneforge(train: Path, test: Path, args: argparse.Namespace, work: Path, system: str) -> dict[str, Any]:
    from tuneforge.config import load_config
    from tuneforge.tasks import train as run_training

    packing = "-padded" not in system  # tuneforge packs chats by default
    cfg_path = work / "tuneforge.yaml"
    cfg = {
        "task": "causal-lm-sft",
        "model": args.model,
        "method": LORA,
        "data": {"train": str(train), "test": str(test), "split": {"validation": 0.0}, "clean": {"dedup": False}},
        "sft": {"eval_answers": 0, "report_samples": 0},
        "train": matched_train_block(args, system) | {"packing": packing},
        "output_dir": str(work / system),
        "tracking": "none",
    }
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    run_dir = run_training(load_config(cfg_path))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "test_loss": round(metrics["test"]["loss"], 4),
        "real_tokens": metrics["train"]["real_tokens"],
        "train_seconds": metrics["train"]["fit_seconds"],
    }


def _features(path: Path, tokenizer: Any, max_length: int) -> list[dict[str, Any]]:
    from tuneforge.config.sft import SftConfig
    from tuneforge.tasks.causal_lm_sft.chats import read_conversations
    from tuneforge.tasks.causal_lm_sft.format import encode_chat

    _, conversations, _ = read_conversations(path, "auto", "auto", SftConfig())
    out = []
    for c in conversations:
        encoded = encode_chat(tokenizer, c.messages)
        out.append({"input_ids": encoded.input_ids[:max_length], "labels": encoded.labels[:max_length]})
    return out


def run_trainer(train: Path, test: Path, args: argparse.Namespace, work: Path, system: str) -> dict[str, Any]:
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.gguf_cache import hf_dir
    from tuneforge.methods.peft_methods import LORA_TARGETS
    from tuneforge.models import resolve_model
    from tuneforge.tasks.causal_lm_sft.batching import pad_collate, token_losses

    path = hf_dir(resolve_model(args.model))
    tokenizer = AutoTokenizer.from_pretrained(path)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    dataset = _features(train, tokenizer, args.max_length)
    counter = TokenCounter()

    def collate(features: list[dict[str, Any]]) -> Any:
        counter(features)
        return pad_collate(features, pad_id)  # input_ids, attention_mask, labels: the model's own shifted loss

    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_pretrained(path)
    targets = LORA_TARGETS[model.config.model_type]
    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=16, lora_alpha=32, lora_dropout=0.05, target_modules=targets)
    model = get_peft_model(model, config)
    seconds = train_with_trainer(model, dataset, collate, args, work, system, remove_unused_columns=False)
    held_out = _features(test, tokenizer, args.max_length)
    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(held_out), 16):
            losses, mask = token_losses(model, pad_collate(held_out[start : start + 16], pad_id))
            total, count = total + float(losses.sum()), count + int(mask.sum())
    return {"test_loss": round(total / count, 4), "real_tokens": counter.tokens, "train_seconds": round(seconds, 2)}


def main() -> None:
    parser = bench_parser(__doc__, "unused", lr=1e-3, max_length=256, output="bench/results/train_sft.json")
    parser.add_argument("--data", type=Path, default=Path("examples/support_sft/qa.jsonl"))
    parser.set_defaults(model="smollm2", batch_size=8, systems=SYSTEMS)
    args = parse_bench_args(parser)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train, test = _split(args.data, args.seed, args.train_samples, work)

        results = run_systems(
            args.systems,
            partial(run_tuneforge, train, test, args, work),
            partial(run_trainer, train, test, args, work),
        )
    report(results, args, "test_loss")


if __name__ == "__main__":
    main()
