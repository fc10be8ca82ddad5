"""ChatModel: answers chats with a fine-tuned run (or any HF causal LM): batched, streamed, with stop strings.

Answers to a file go through `model.generate` in batches, prompts padded on the left so that every row's answer
starts at the same position. One chat's answer is decoded token by token with the model's key/value cache, so
that its text, token counts and finish reason come out as it is written (`tuneforge chat`, the chat endpoint).

>>> bot = ChatModel.load("runs/support-sft")  # doctest: +SKIP
>>> for piece in bot.stream([{"role": "user", "content": "退货期限是多久?"}], max_new_tokens=64):  # doctest: +SKIP
...     print(piece, end="")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tuneforge.config.sft import GenerationConfig
from tuneforge.errors import RunError
from tuneforge.gguf_cache import hf_dir
from tuneforge.models import resolve_model
from tuneforge.tasks.causal_lm_sft.format import render_prompt

__all__ = ["ChatModel", "Generation", "load_causal_lm", "trim_at_stop"]

Messages = Sequence[dict[str, str]]
TASK = "causal-lm-sft"


def load_causal_lm(name: str) -> tuple[torch.nn.Module, Any]:
    """Model and tokenizer of an alias (GGUF aliases via the dequantised cache), a local HF dir or a hub id."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = hf_dir(resolve_model(name))
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def trim_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` up to the first stop string, which is left out.

    >>> trim_at_stop("Yes.\\nUser: and?", ["\\nUser:"])
    'Yes.'
    """
    cut = min((i for s in stop if (i := text.find(s)) >= 0), default=len(text))
    return text[:cut]


@dataclass
class Generation:
    """One answer as it is generated: iterate for its text pieces; the counts are final once iteration ends."""

    pieces: Iterator[str]
    prompt_tokens: int
    completion_tokens: int = 0
    finish_reason: str = "length"  # "stop" when the model ended the answer itself, or a stop string did

    def __iter__(self) -> Iterator[str]:
        return self.pieces


class ChatModel:
    """A causal LM, its tokenizer (with a chat template) and default sampling settings.

    `generate_batch` answers many chats (`tuneforge generate`, `predict`, evaluation); `stream` answers one as it
    is written (`tuneforge chat`, `/v1/chat/completions`). Keyword settings override the defaults; None keeps them.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        defaults: GenerationConfig | None = None,
        run_dir: Path | None = None,
    ) -> None:
        if not tokenizer.chat_template:
            raise RunError("the tokenizer has no chat template; set sft.chat_template when training")
        self.model, self.tokenizer, self.run_dir = model, tokenizer, run_dir
        self.defaults = defaults or GenerationConfig()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.stop_ids = _end_of_answer_ids(model, tokenizer)

    @classmethod
    def load(cls, source: str | Path) -> ChatModel:
        """A causal-lm-sft run directory (base + adapter, or full model), or any causal-LM dir, alias or hub id."""
        from tuneforge.rundir import read_manifest
        from tuneforge.rundir.saved import load_model, saved_dir

        run_dir = Path(source)
        if not (run_dir / "manifest.json").is_file():
            return cls(*load_causal_lm(str(source)))
        manifest = read_manifest(run_dir, TASK)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = load_model(run_dir, manifest, lambda path: AutoModelForCausalLM.from_pretrained(hf_dir(path)))
        tokenizer = AutoTokenizer.from_pretrained(saved_dir(run_dir, manifest))
        return cls(model, tokenizer, GenerationConfig(**manifest.get("generation", {})), run_dir)

    def _settings(self, overrides: dict[str, Any]) -> GenerationConfig:
        chosen = self.defaults.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        return GenerationConfig.model_validate(chosen.model_dump())  # the same range checks as the config

    def _generate_kwargs(self, chosen: GenerationConfig) -> dict[str, Any]:
        sampling = chosen.temperature > 0
        settings = {
            "max_new_tokens": chosen.max_new_tokens,
            "do_sample": sampling,
            "temperature": chosen.temperature if sampling else None,
            "top_p": chosen.top_p if sampling else None,
            "top_k": (chosen.top_k or None) if sampling else None,
            "repetition_penalty": chosen.repetition_penalty,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.stop_ids,
            "use_cache": True,
        }
        if chosen.stop:
            settings.update(stop_strings=list(chosen.stop), tokenizer=self.tokenizer)
        return settings

    def _inputs(self, chats: Sequence[Messages]) -> dict[str, torch.Tensor]:
        prompts = [render_prompt(self.tokenizer, chat) for chat in chats]
        # Left padding for this call only: the tokenizer may be shared with training, which pads right.
        batch = self.tokenizer(
            prompts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
        )
        device = next(self.model.parameters()).device
        return {k: v.to(device) for k, v in batch.items()}

    def generate_batch(self, chats: Sequence[Messages], *, batch_size: int = 8, **sampling: Any) -> list[str]:
        """The assistant's answer to each chat, generated `batch_size` chats at a time."""
        chosen = self._settings(sampling)
        settings = self._generate_kwargs(chosen)
        self.model.eval()
        # Similar lengths together: less left padding. Answers go back in input order.
        order = sorted(range(len(chats)), key=lambda i: -sum(len(m["content"]) for m in chats[i]))
        by_index: dict[int, str] = {}
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                indices = order[start : start + batch_size]
                inputs = self._inputs([chats[i] for i in indices])
                output = self.model.generate(**inputs, **settings)
                new = output[:, inputs["input_ids"].shape[1] :]
                for i, ids in zip(indices, new, strict=True):
                    text = self.tokenizer.decode(ids, skip_special_tokens=True)
                    # max_new_tokens can end inside a multi-byte character, which decodes as U+FFFD.
                    by_index[i] = trim_at_stop(text, chosen.stop).rstrip("\ufffd").strip()
        return [by_index[i] for i in range(len(chats))]

    def stream(self, chat: Messages, *, seed: int | None = None, **sampling: Any) -> Generation:
        """The answer to one chat, yielded piece by piece as it is generated; stop strings are never yielded.

        The pieces join to what `generate_batch` answers (before its final strip); `seed` makes sampling
        repeatable without touching torch's global generator, which concurrent requests share.
        """
        chosen = self._settings(sampling)
        prompt = self._inputs([chat])["input_ids"]
        generation = Generation(iter(()), prompt_tokens=prompt.shape[1])
        generation.pieces = self._decode(prompt, chosen, seed, generation)
        return generation

    @torch.inference_mode()
    def _decode(
        self, prompt: torch.Tensor, chosen: GenerationConfig, seed: int | None, generation: Generation
    ) -> Iterator[str]:
        self.model.eval()
        choose = _token_chooser(chosen, prompt.device, seed)
        sequence, inputs, past, text, sent = prompt, prompt, None, "", 0
        hold = max((len(s) for s in chosen.stop), default=1) - 1  # a stop string may be split across pieces
        for _ in range(chosen.max_new_tokens):
            out = self.model(input_ids=inputs, past_key_values=past, use_cache=True)
            past = out.past_key_values
            token = choose(sequence, out.logits[:, -1].float())
            if int(token) in self.stop_ids:
                generation.finish_reason = "stop"
                break
            inputs = token.view(1, 1)
            sequence = torch.cat([sequence, inputs], dim=1)
            generation.completion_tokens += 1
            text = self.tokenizer.decode(sequence[0, prompt.shape[1] :], skip_special_tokens=True)
            answer = trim_at_stop(text, chosen.stop)
            if len(answer) < len(text):
                generation.finish_reason, text = "stop", answer
                break
            # Held back: what a stop string may begin with, and U+FFFD ending the rest (half of a multi-byte
            # character; or bytes that generate_batch strips from the end of an answer cut at a stop string)
            ready = len(text[: max(0, len(text) - hold)].rstrip("\ufffd"))
            if ready > sent:
                yield text[sent:ready]
                sent = ready
        text = text.rstrip("\ufffd")  # as in generate_batch
        if len(text) > sent:
            yield text[sent:]


def _end_of_answer_ids(model: torch.nn.Module, tokenizer: Any) -> list[int]:
    """Token ids that end an answer: the model's generation-config EOS ids (some chat models list several) and
    the tokenizer's EOS; SEP for BERT-style vocabularies that have neither."""
    config = getattr(model, "generation_config", None)
    eos = config.eos_token_id if config is not None else None
    ids = {*(eos if isinstance(eos, list) else [eos]), tokenizer.eos_token_id} - {None}
    return sorted(ids or {tokenizer.sep_token_id} - {None})


def _token_chooser(
    chosen: GenerationConfig, device: torch.device, seed: int | None
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The next token from (sequence so far, last logits): greedy at temperature 0, else sampled with transformers'
    own logits processors, in the order `generate` applies them."""
    from transformers import (
        LogitsProcessorList,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    processors = LogitsProcessorList()
    if chosen.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(chosen.repetition_penalty))
    if chosen.temperature <= 0:
        return lambda sequence, logits: processors(sequence, logits).argmax(-1)
    if chosen.temperature != 1.0:
        processors.append(TemperatureLogitsWarper(chosen.temperature))
    if chosen.top_k:
        processors.append(TopKLogitsWarper(chosen.top_k))
    if chosen.top_p < 1.0:
        processors.append(TopPLogitsWarper(chosen.top_p))
    rng = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    return lambda sequence, logits: torch.multinomial(processors(sequence, logits).softmax(-1), 1, generator=rng)[0]
