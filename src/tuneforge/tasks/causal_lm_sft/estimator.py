"""A finished causal-lm-sft run (or any causal-LM dir) as the task's estimator: answers, files, evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich import get_console
from rich.table import Table as RichTable

from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel, Messages
from tuneforge.tasks.causal_lm_sft.evaluate import evaluate_chat_file
from tuneforge.tasks.causal_lm_sft.files import generate_file

__all__ = ["ChatRun"]


class ChatRun(ChatModel):
    """`ChatModel.load(run_dir)` plus what every task's estimator offers: predict, show, files, evaluation.

    >>> ChatRun.load("runs/support-sft").predict(["How long do refunds take?"])  # doctest: +SKIP
    """

    def predict(self, questions: Sequence[str | Messages]) -> list[str]:
        """The answer to each question (a user message) or chat, with the run's sampling settings."""
        chats = [[{"role": "user", "content": q}] if isinstance(q, str) else q for q in questions]
        return self.generate_batch(chats)

    def preprocess(self, questions: Sequence[str | Messages]) -> list[str | Messages]:
        return list(questions)  # the chat template renders each chat as it did at training time

    def predict_json(self, questions: Sequence[str | Messages]) -> list[dict[str, Any]]:
        """`predict` as JSON-able objects: {"answer": ...} per question."""
        return [{"answer": answer} for answer in self.predict(questions)]

    def show(self, questions: Sequence[str]) -> None:
        """Print each question with its answer."""
        table = RichTable("question", "answer")
        for question, answer in zip(questions, self.predict(questions), strict=True):
            table.add_row(question, answer)
        get_console().print(table)

    def predict_file(
        self, source: Path, output: Path, *, text_column: str | None = None, batch_size: int = 8, **sampling: Any
    ) -> None:
        """Answer every question of `source` (JSONL `messages`/`question`, or CSV `question`) into JSONL `output`."""
        generate_file(self, source, output, batch_size=batch_size, **sampling)

    def evaluate_file(self, source: Path) -> dict[str, Any]:
        """Loss, perplexity, ROUGE-L and exact match on a chat file, for the tuned and the base model."""
        return evaluate_chat_file(self, source)

    def for_serving(self) -> ChatModel:
        """The model as the server runs it: LoRA/IA3 folded into the weights (no adapter cost per token), and
        neutral sampling defaults — requests bring OpenAI's sampling fields; the run's sft.generation (stop strings,
        top_k, repetition penalty) is for chat, generate and evaluation only."""
        model = self.model.merge_and_unload() if hasattr(self.model, "merge_and_unload") else self.model
        return ChatModel(model, self.tokenizer)
