"""Chat formatting with the tokenizer's chat template, and the loss mask: only assistant turns are learned.

Each assistant turn is located as the text between the template rendered up to the turn's generation prompt
and the template rendered through the turn; tokens whose first character falls there are labelled (the answer
and the template's end-of-turn marker, so the model learns to stop), every other token gets -100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tuneforge.errors import ConfigError
from tuneforge.training.batching import IGNORE  # labels of tokens left out of the loss

__all__ = ["IGNORE", "Encoded", "encode_chat", "render_prompt"]


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]

    @property
    def answer_tokens(self) -> int:
        return sum(label != IGNORE for label in self.labels)


def _render(tokenizer: Any, messages: Sequence[dict[str, str]], *, generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=generation_prompt)


def render_prompt(tokenizer: Any, messages: Sequence[dict[str, str]]) -> str:
    """The template text of `messages`, ending where the assistant's next answer starts."""
    return _render(tokenizer, messages, generation_prompt=True)


def encode_chat(tokenizer: Any, messages: Sequence[dict[str, str]]) -> Encoded:
    """Token ids of the whole conversation and labels that are -100 outside assistant turns.

    >>> chat = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    >>> enc = encode_chat(tok, chat)  # doctest: +SKIP
    >>> tok.decode([t for t, y in zip(enc.input_ids, enc.labels) if y != -100])  # doctest: +SKIP
    'hello<|im_end|>\\n'
    """
    full = _render(tokenizer, messages, generation_prompt=False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = _render(tokenizer, messages[:i], generation_prompt=True)
        end = _render(tokenizer, messages[: i + 1], generation_prompt=False)
        if not (full.startswith(start) and full.startswith(end) and len(end) > len(start)):
            raise ConfigError(
                "the chat template renders earlier turns differently once later turns follow, so assistant "
                "turns cannot be located for the loss mask; set sft.chat_template to a template that does not"
            )
        spans.append((len(start), len(end)))
    encoding = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    labels = [
        token if any(a <= begin < b for a, b in spans) else IGNORE
        for token, (begin, _) in zip(encoding["input_ids"], encoding["offset_mapping"], strict=True)
    ]
    return Encoded(list(encoding["input_ids"]), labels)
