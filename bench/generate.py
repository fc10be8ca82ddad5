"""Generation throughput: tuneforge's ChatModel against plain `model.generate`, batch 1 and batch 8, one run.

Both answer the same questions of the bundled demo set greedily with the same model and max_new_tokens; prints
generated tokens per second (padding and tokens after the end of an answer not counted) and writes a JSON result.

    python bench/generate.py --questions 16 --max-new-tokens 64        # a few minutes on 2 shared cores
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import torch


def _questions(path: Path, n: int) -> list[list[dict[str, str]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["messages"][:-1] for row in rows[:n]]


def _plain(model: Any, tokenizer: Any, chats: list, batch: int, max_new: int) -> tuple[int, float]:
    """The usual hand-written loop: template, left-padded tokenisation, generate, count tokens up to EOS."""
    tokenizer.padding_side = "left"
    tokens, started = 0, time.perf_counter()
    for start in range(0, len(chats), batch):
        prompts = [
            tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
            for c in chats[start : start + batch]
        ]
        inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(
                **inputs, max_new_tokens=max_new, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
        tokens += sum(
            len(
                tokenizer(tokenizer.decode(row[inputs["input_ids"].shape[1] :], skip_special_tokens=True))["input_ids"]
            )
            for row in out
        )
    return tokens, time.perf_counter() - started


def _ours(bot: Any, chats: list, batch: int, max_new: int) -> tuple[int, float]:
    started = time.perf_counter()
    answers = bot.generate_batch(chats, batch_size=batch, max_new_tokens=max_new, temperature=0.0)
    seconds = time.perf_counter() - started
    return sum(len(bot.tokenizer(a)["input_ids"]) for a in answers), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2", help="Alias, HF causal-LM dir, or a causal-lm-sft run dir.")
    parser.add_argument("--data", type=Path, default=Path("examples/support_sft/qa.jsonl"))
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--output", type=Path, default=Path("bench/results/generate.json"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging

    from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel

    logging.set_verbosity_error()
    bot = ChatModel.load(args.model)
    chats = _questions(args.data, args.questions)
    _ours(bot, chats[:1], 1, 4)  # warm-up: first-call allocations
    results: dict[str, Any] = {}
    for batch in (1, 8):
        for system, run in (
            ("plain_generate", lambda b=batch: _plain(bot.model, bot.tokenizer, chats, b, args.max_new_tokens)),
            ("tuneforge", lambda b=batch: _ours(bot, chats, b, args.max_new_tokens)),
        ):
            tokens, seconds = run()
            results[f"{system}_batch{batch}"] = {
                "tokens": tokens,
                "seconds": round(seconds, 2),
                "tokens_per_second": round(tokens / seconds, 1),
            }
            print(
                f"{system:<15} batch {batch}: {tokens / seconds:7.1f} tokens/s ({tokens} tokens, {seconds:.1f} s)",
                flush=True,
            )
    summary = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "threads": torch.get_num_threads(),
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2))
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
