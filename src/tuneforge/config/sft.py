"""The `sft:` block of a config: how chat data is read and formatted, and how answers are generated."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tuneforge.frozen import Frozen

__all__ = ["GenerationConfig", "SftConfig"]


class GenerationConfig(Frozen):
    """Sampling settings; temperature 0 is greedy decoding (reproducible evaluation)."""

    max_new_tokens: int = Field(128, ge=1, le=4096, description="Most tokens generated per answer.")
    temperature: float = Field(0.0, ge=0, le=5, description="Softmax temperature; 0 decodes greedily.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling: keep the smallest set of this much mass.")
    top_k: int = Field(0, ge=0, description="Sample among the k most likely tokens; 0 turns the filter off.")
    repetition_penalty: float = Field(1.0, gt=0, description="Above 1 discourages repeating earlier tokens.")
    stop: list[str] = Field(default_factory=list, description="Strings that end an answer; not part of the answer.")

    @field_validator("stop")
    @classmethod
    def _no_empty_stop(cls, value: list[str]) -> list[str]:
        if any(not s for s in value):
            raise ValueError("stop strings must not be empty")
        return value


class SftConfig(Frozen):
    """Chat data and formatting for task causal-lm-sft; train.max_length is the token budget of a conversation."""

    question_column: str = Field("question", description="CSV/TSV: column holding the user's question.")
    answer_column: str = Field("answer", description="CSV/TSV: column holding the reference answer.")
    system_prompt: str | None = Field(
        None, description="System turn put before conversations that have none; null keeps the template's default."
    )
    chat_template: str | None = Field(
        None, description="Jinja chat template replacing the tokenizer's own (needed for models without one)."
    )
    over_length: Literal["truncate", "drop", "fail"] = Field(
        "truncate",
        description="Conversations over train.max_length tokens: cut to it, drop them (listed), or reject them.",
    )
    generation: GenerationConfig = Field(default_factory=GenerationConfig, description="Defaults of generation.")
    eval_answers: int = Field(
        40, ge=0, description="Held-out questions answered for ROUGE-L / exact match (generation is slow on CPU)."
    )
    report_samples: int = Field(
        8, ge=0, description="Side-by-side rows (question, reference, base, tuned) in report.md."
    )
