"""Zero-shot with an instruction LLM: every label is scored as the model's answer to a prompt; the best one wins.

The text goes into `method.prompt` (with the label names, and descriptions where given, in place of {labels}),
which becomes the user turn of the model's chat template. A label's answer is the assistant turn holding its name
(underscores as spaces) up to the end-of-turn token, so a label that is the prefix of another does not win by
being short. Its score is the sum or mean log-probability of those answer tokens: the prediction is always one
of the declared labels, and the softmax over the labels is a probability over the label set.

The prompt runs once per text; its key/value cache is then shared by all answers, which are scored in batches.
Nothing is trained: the run saves the prompt it used (`prompt/prompt.json`); the LLM is the base model.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from pydantic import TypeAdapter
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase
from transformers.modeling_outputs import SequenceClassifierOutput

from tuneforge.config import Config, MethodConfig
from tuneforge.data import PreparedData
from tuneforge.errors import ConfigError
from tuneforge.methods.fewshot_blocks import ZeroShotLLMMethod
from tuneforge.models import pretrained_args, resolve_model
from tuneforge.rundir import write_json
from tuneforge.rundir.saved import saved_entries
from tuneforge.tasks.text_classification.fewshot.base import (
    FewShotMethod,
    Fitted,
    check_label_keys,
    label_name,
    no_training,
)
from tuneforge.tasks.text_classification.task import Feature, TextClassification

__all__ = ["ZEROSHOT_LLM", "LabelScorer", "PromptedClassification"]

ANSWERS_PER_BATCH = 16  # answers scored together; each holds a copy of the prompt's cache


class PromptedClassification(TextClassification):
    """Encodes each text as the chat prompt that asks for its label."""

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, labels: list[str], max_length: int, method: ZeroShotLLMMethod
    ) -> None:
        super().__init__(tokenizer, labels, max_length, None)
        if not tokenizer.chat_template:
            raise ConfigError(f"zeroshot-llm: model '{method.model}' has no chat template; use an instruction model")
        check_label_keys("zeroshot-llm", list(method.descriptions or {}), labels)
        self.method = method
        self.names = [label_name(label) for label in labels]
        if len(set(self.names)) < len(labels):
            raise ConfigError(f"zeroshot-llm: labels that differ only in '_' or '-' read the same: {labels}")

    def label_listing(self) -> str:
        descriptions = self.method.descriptions or {}
        if not descriptions:
            return ", ".join(self.names)
        lines = [
            f"- {name}: {descriptions[label]}" if label in descriptions else f"- {name}"
            for label, name in zip(self.labels, self.names, strict=True)
        ]
        return "\n" + "\n".join(lines)

    def prompt(self, text: str) -> str:
        """The chat prompt for `text` (cut to max_length tokens), ending where the assistant's answer starts."""
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) > self.max_length:
            text = self.tokenizer.decode(ids[: self.max_length])
        message = self.method.prompt.format(text=text, labels=self.label_listing())
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": message}], add_generation_prompt=True, tokenize=False
        )

    def answers(self) -> list[list[int]]:
        """Token ids of each label's answer: the assistant turn after the prompt, end-of-turn token included."""
        user = [{"role": "user", "content": "?"}]
        prompt = self.tokenizer.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
        answers = []
        for name in self.names:
            turn = [*user, {"role": "assistant", "content": name}]
            full = self.tokenizer.apply_chat_template(turn, tokenize=False)
            answer = full[len(prompt) :].rstrip() if full.startswith(prompt) else name
            answers.append(self.tokenizer(answer, add_special_tokens=False)["input_ids"])
        return answers

    def encode(self, texts: Sequence[str], labels: Sequence[str] | None = None) -> list[Feature]:
        prompts = [self.prompt(text) for text in texts]
        ids = self.tokenizer(prompts, add_special_tokens=False)["input_ids"] if prompts else []
        if labels is None:
            return [{"input_ids": x} for x in ids]
        return [{"input_ids": x, "label": self.label_ids[y]} for x, y in zip(ids, labels, strict=True)]


class LabelScorer(torch.nn.Module):
    """`logits[i, j]`: log-probability of answer j after prompt i (summed over its tokens, or their mean)."""

    def __init__(self, lm: torch.nn.Module, answers: list[list[int]], score: str) -> None:
        super().__init__()
        self.lm, self.mean = lm, score == "mean"
        width = max(len(a) for a in answers)
        ids = torch.zeros(len(answers), width, dtype=torch.long)
        mask = torch.zeros(len(answers), width)
        for row, answer in enumerate(answers):
            ids[row, : len(answer)] = torch.tensor(answer)
            mask[row, : len(answer)] = 1
        self.register_buffer("answer_ids", ids, persistent=False)
        self.register_buffer("answer_mask", mask, persistent=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object) -> SequenceClassifierOutput:
        scores = [self._score(ids[mask.bool()]) for ids, mask in zip(input_ids, attention_mask, strict=True)]
        return SequenceClassifierOutput(logits=torch.stack(scores))

    def _score(self, prompt: torch.Tensor) -> torch.Tensor:
        body, head = self.lm.base_model, self.lm.get_output_embeddings()
        with torch.no_grad():
            out = body(input_ids=prompt[None], use_cache=True)
            first = head(out.last_hidden_state[:, -1]).float().log_softmax(-1)[0]
            token_logp = torch.zeros_like(self.answer_mask)
            token_logp[:, 0] = first[self.answer_ids[:, 0]]
            if self.answer_ids.shape[1] > 1:  # some answers have more than one token
                for start in range(0, len(self.answer_ids), ANSWERS_PER_BATCH):
                    rows = slice(start, start + ANSWERS_PER_BATCH)
                    token_logp[rows, 1:] = self._continue(out.past_key_values, prompt.numel(), rows)
        total = (token_logp * self.answer_mask).sum(1)
        return total / self.answer_mask.sum(1) if self.mean else total

    def _continue(self, cache: Any, prompt_length: int, rows: slice) -> torch.Tensor:
        """Log-probabilities of the 2nd, 3rd, ... tokens of the answers in `rows`, each after the prompt."""
        ids, mask = self.answer_ids[rows], self.answer_mask[rows]
        n = len(ids)
        cache = copy.deepcopy(cache)  # the forward pass appends to it
        cache.batch_repeat_interleave(n)
        attention = torch.cat([torch.ones(n, prompt_length, device=mask.device), mask[:, :-1]], dim=1)
        hidden = self.lm.base_model(
            input_ids=ids[:, :-1], attention_mask=attention.long(), past_key_values=cache
        ).last_hidden_state
        logp = self.lm.get_output_embeddings()(hidden).float().log_softmax(-1)
        return logp.gather(-1, ids[:, 1:, None]).squeeze(-1)


def _build(
    method: ZeroShotLLMMethod, labels: list[str], max_length: int
) -> tuple[PromptedClassification, LabelScorer]:
    path, kwargs = pretrained_args(resolve_model(method.model))
    task = PromptedClassification(AutoTokenizer.from_pretrained(path, **kwargs), labels, max_length, method)
    lm = AutoModelForCausalLM.from_pretrained(path, **kwargs).requires_grad_(False).eval()
    return task, LabelScorer(lm, task.answers(), method.score).eval()


def _fit(cfg: Config, data: PreparedData, run_dir: Path, accelerator: Accelerator, resume: bool) -> Fitted:
    started = time.perf_counter()
    task, model = _build(cfg.method, data.labels, cfg.train.max_length)
    return Fitted(task, model.to(accelerator.device), *no_training(started))


def _save(fitted: Fitted, run_dir: Path, cfg: Config) -> dict[str, Any]:
    folder = run_dir / "prompt"
    folder.mkdir(parents=True, exist_ok=True)
    task = fitted.task
    record = {
        "prompt": task.prompt("{text}"),
        "answers": {label: task.tokenizer.decode(ids) for label, ids in zip(task.labels, task.answers(), strict=True)},
    }
    write_json(folder / "prompt.json", record)
    return saved_entries(folder, cfg.method, cfg.method.model)


def _load(run_dir: Path, manifest: dict[str, Any]) -> tuple[TextClassification, torch.nn.Module]:
    method = TypeAdapter(MethodConfig).validate_python(manifest["method_config"])
    return _build(method, manifest["labels"], manifest["max_length"])


ZEROSHOT_LLM = FewShotMethod(
    fit=_fit,
    save=_save,
    load=_load,
)
