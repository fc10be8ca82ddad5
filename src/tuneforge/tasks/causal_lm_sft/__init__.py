"""Task `causal-lm-sft`: instruction / chat fine-tuning of causal LMs — chat data, loss masks, packing,
generation, metrics, GGUF cache. `estimator.ChatRun` loads a run (or any causal-LM dir) and answers.

>>> from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel
>>> bot = ChatModel.load("runs/support-sft")  # doctest: +SKIP
>>> print(bot.generate_batch([[{"role": "user", "content": "How long do refunds take?"}]])[0])  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from tuneforge.tasks.base import ContinualSpec, FeedbackFormat, TaskSpec
from tuneforge.tasks.causal_lm_sft.continual import asked, score_conversations, write_conversations
from tuneforge.tasks.causal_lm_sft.feedback import write_conversations as write_feedback

if TYPE_CHECKING:
    from tuneforge.config import Config
    from tuneforge.data import DataReport
    from tuneforge.tasks.causal_lm_sft.estimator import ChatRun

__all__ = ["CAUSAL_LM_SFT"]


def _loop_task() -> type:
    from tuneforge.tasks.causal_lm_sft.task import CausalLMSft

    return CausalLMSft


def _check_data(cfg: Config) -> DataReport:
    from tuneforge.run import check_loop_data

    return check_loop_data(cfg, _loop_task()).report


def _train(cfg: Config, resume: bool) -> Path:
    from tuneforge.run import train_in_loop

    return train_in_loop(cfg, _loop_task(), resume=resume)


def _load(path: Path) -> ChatRun:
    from tuneforge.tasks.causal_lm_sft.estimator import ChatRun

    return ChatRun.load(path)


def _causal_lm_dir(path: Path) -> str | None:
    """ "causal-lm" for a plain Hugging Face causal-LM dir (no run), which is served and chatted with as it is."""
    if not (path / "config.json").is_file():
        return None
    architectures = json.loads((path / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    return "causal-lm" if any(name.endswith("ForCausalLM") for name in architectures) else None


CAUSAL_LM_SFT = TaskSpec(
    name="causal-lm-sft",
    inputs="chats",
    main_metric="loss",
    methods=("lora", "full", "adalora", "ia3"),  # those that fit a causal LM with the pipeline's loss
    options=("extend_vocab",),
    packs=True,
    check_data=_check_data,
    train=_train,
    load=_load,
    feedback=FeedbackFormat(
        suffixes=(".jsonl",), unit="conversations", write=write_feedback, rated=True, kinds=("causal-lm",)
    ),
    plain_dir=_causal_lm_dir,
    continual=ContinualSpec(
        loop_task=_loop_task,
        text=asked,
        label=lambda conversation: None,
        answer=lambda conversation: conversation.reference,
        label_set=lambda conversation: set(),
        write=write_conversations,
        score=score_conversations,
        suffix=".jsonl",
    ),
)
