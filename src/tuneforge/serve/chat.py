"""Chat models behind `/v1/chat/completions`: a small protocol, and its implementation over any HF causal LM."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

__all__ = ["ChatModel", "Generation", "HFChatModel", "Sampling"]


@dataclass(frozen=True)
class Sampling:
    max_tokens: int = 256
    temperature: float = 1.0  # 0 is greedy decoding
    top_p: float = 1.0
    seed: int | None = None


@dataclass
class Generation:
    """Text pieces as they are generated; the counts are final once iteration ends."""

    pieces: Iterator[str]
    prompt_tokens: int
    completion_tokens: int = 0
    finish_reason: str = "length"  # "stop" when the model ended the answer itself

    def __iter__(self) -> Iterator[str]:
        return self.pieces


class ChatModel(Protocol):
    """What the chat endpoint needs of a model: a run loader of any chat task returns one of these."""

    def generate(self, messages: list[dict[str, str]], sampling: Sampling) -> Generation: ...


class HFChatModel:
    """A Hugging Face causal LM with a chat template, decoded token by token with its KV cache.

    >>> chat = HFChatModel.load("runs/support-sft/model")  # doctest: +SKIP
    >>> "".join(chat.generate([{"role": "user", "content": "你好"}], Sampling(max_tokens=8)))  # doctest: +SKIP
    """

    def __init__(self, model: torch.nn.Module, tokenizer: Any) -> None:
        self.model, self.tokenizer = model.eval(), tokenizer
        eos = model.generation_config.eos_token_id if model.generation_config else None
        eos = eos if eos is not None else tokenizer.eos_token_id or tokenizer.sep_token_id
        self.stop_ids = set(eos if isinstance(eos, list) else [eos]) - {None}

    @classmethod
    def load(cls, model_dir: str | Path, gguf_file: str | None = None) -> HFChatModel:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        extra = {"gguf_file": gguf_file} if gguf_file else {}
        return cls(
            AutoModelForCausalLM.from_pretrained(model_dir, **extra), AutoTokenizer.from_pretrained(model_dir, **extra)
        )

    def generate(self, messages: list[dict[str, str]], sampling: Sampling) -> Generation:
        encoded = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
        )
        prompt = encoded["input_ids"]
        generation = Generation(iter(()), prompt_tokens=prompt.shape[1])
        generation.pieces = self._decode(prompt, sampling, generation)
        return generation

    @torch.inference_mode()
    def _decode(self, prompt: torch.Tensor, sampling: Sampling, generation: Generation) -> Iterator[str]:
        rng = torch.Generator().manual_seed(sampling.seed) if sampling.seed is not None else None
        inputs, past, tokens, emitted = prompt, None, [], ""
        for _ in range(sampling.max_tokens):
            out = self.model(input_ids=inputs, past_key_values=past, use_cache=True)
            past = out.past_key_values
            token = _sample(out.logits[0, -1].float(), sampling, rng)
            if token in self.stop_ids:
                generation.finish_reason = "stop"
                return
            tokens.append(token)
            generation.completion_tokens = len(tokens)
            inputs = torch.tensor([[token]])
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
                continue
            if len(text) > len(emitted):
                yield text[len(emitted) :]
                emitted = text
        # the loop ran out of tokens: finish_reason stays "length"


def _sample(logits: torch.Tensor, sampling: Sampling, rng: torch.Generator | None) -> int:
    if sampling.temperature <= 0:
        return int(logits.argmax())
    probs = (logits / sampling.temperature).softmax(-1)
    if sampling.top_p < 1:
        sorted_probs, order = probs.sort(descending=True)
        # keep the smallest set of tokens whose mass reaches top_p (nucleus sampling, Holtzman et al. 2020)
        outside = sorted_probs.cumsum(-1) - sorted_probs > sampling.top_p
        sorted_probs[outside] = 0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=rng))
