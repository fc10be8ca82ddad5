"""What continual rounds (`tuneforge retrain`) need of chat SFT: conversations as chat JSONL, the answer a
repeated question must repeat (else the newer answer wins), and a loaded run's held-out loss on conversations,
negated so that, as for every task, higher is better."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuneforge.tasks.base import Scores
from tuneforge.tasks.causal_lm_sft.chats import Conversation

__all__ = ["asked", "score_conversations", "write_conversations"]


def asked(conversation: Conversation) -> str:
    """The turns before the answer, as one text: what duplicates are judged on."""
    return "\n".join(turn["content"] for turn in conversation.prompt)


def write_conversations(conversations: list[Conversation], path: Path) -> None:
    lines = (json.dumps({"messages": list(c.messages)}, ensure_ascii=False) + "\n" for c in conversations)
    path.write_text("".join(lines), encoding="utf-8")


def score_conversations(estimator: Any, conversations: list[Conversation], labels: list[str] | None = None) -> Scores:
    """Minus the mean loss per answer token (the run's chat template and max_length), as the gate compares it.
    Chats have no labels: `labels` changes nothing."""
    from tuneforge.rundir import run_config
    from tuneforge.tasks.causal_lm_sft.task import CausalLMSft

    if not conversations:
        return {"main": 0.0, "metric": "-loss", "size": 0, "per_class": {}}
    cfg = run_config(estimator.run_dir)
    task = CausalLMSft(estimator.tokenizer, cfg.train.max_length, cfg.sft, cfg.model)
    loss = task.split_loss(estimator.model, task.encode_examples(conversations), batch_size=8, accelerator=None)
    return {"main": -loss, "metric": "-loss", "size": len(conversations), "per_class": {}}
