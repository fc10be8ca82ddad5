"""Tasks: what a model learns. Each is one class following `tasks.base.Task`, listed once in TASKS.

>>> TASKS["token-classification"]  # doctest: +SKIP
<class 'tuneforge.tasks.token_classification.TokenClassification'>
"""

from __future__ import annotations

from tuneforge.tasks.base import Task
from tuneforge.tasks.causal_lm_sft import CausalLMSft
from tuneforge.tasks.text_classification import TextClassification
from tuneforge.tasks.token_classification import TokenClassification

__all__ = ["TASKS", "Task"]

TASKS: dict[str, type[Task]] = {
    "text-classification": TextClassification,
    "token-classification": TokenClassification,
    "causal-lm-sft": CausalLMSft,
}
