"""ChatModel: answers chats with a fine-tuned run (or any HF causal LM): batched, streamed, with stop strings.

Generation goes through `model.generate` with its key/value cache on; prompts of a batch are padded on the
left so that every row's answer starts at the same position.

>>> bot = ChatModel.load("runs/support-sft")  # doctest: +SKIP
>>> for piece in bot.stream([{"role": "user", "content": "退货期限是多久?"}], max_new_tokens=64):  # doctest: +SKIP
...     print(piece, end="")
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from tuneforge.errors import RunError
from tuneforge.llm.cache import hf_dir
from tuneforge.llm.config import GenerationConfig
from tuneforge.llm.format import render_prompt
from tuneforge.models import resolve_model

__all__ = ["ChatModel", "load_causal_lm", "trim_at_stop"]

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


class ChatModel:
    """A causal LM, its tokenizer (with a chat template) and default sampling settings."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, defaults: GenerationConfig | None = None) -> None:
        if not tokenizer.chat_template:
            raise RunError("the tokenizer has no chat template; set sft.chat_template when training")
        self.model, self.tokenizer = model, tokenizer
        self.defaults = defaults or GenerationConfig()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

    @classmethod
    def load(cls, source: str | Path) -> ChatModel:
        """A causal-lm-sft run directory (base + adapter, or full model), or any causal-LM dir, alias or hub id."""
        from tuneforge.export.saved import load_model, saved_dir
        from tuneforge.rundir import read_json

        run_dir = Path(source)
        if not (run_dir / "manifest.json").is_file():
            return cls(*load_causal_lm(str(source)))
        manifest = read_json(run_dir / "manifest.json")
        if manifest.get("task") != TASK:
            raise RunError(f"{run_dir} is a {manifest.get('task')} run; chat and generate need a {TASK} run")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = load_model(run_dir, manifest, lambda path: AutoModelForCausalLM.from_pretrained(hf_dir(path)))
        tokenizer = AutoTokenizer.from_pretrained(saved_dir(run_dir, manifest))
        return cls(model, tokenizer, GenerationConfig(**manifest.get("generation", {})))

    def _settings(self, overrides: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        chosen = self.defaults.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        GenerationConfig.model_validate(chosen.model_dump())  # the same range checks as the config
        sampling = chosen.temperature > 0
        settings = {
            "max_new_tokens": chosen.max_new_tokens,
            "do_sample": sampling,
            "temperature": chosen.temperature if sampling else None,
            "top_p": chosen.top_p if sampling else None,
            "top_k": (chosen.top_k or None) if sampling else None,
            "repetition_penalty": chosen.repetition_penalty,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.tokenizer.eos_token_id,
            "use_cache": True,
        }
        if chosen.stop:
            settings.update(stop_strings=list(chosen.stop), tokenizer=self.tokenizer)
        return settings, list(chosen.stop)

    def _inputs(self, chats: Sequence[Messages]) -> dict[str, torch.Tensor]:
        prompts = [render_prompt(self.tokenizer, chat) for chat in chats]
        side, self.tokenizer.padding_side = self.tokenizer.padding_side, "left"
        try:
            batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            self.tokenizer.padding_side = side  # the tokenizer may be shared with training, which pads right
        device = next(self.model.parameters()).device
        return {k: v.to(device) for k, v in batch.items()}

    def generate_batch(self, chats: Sequence[Messages], *, batch_size: int = 8, **sampling: Any) -> list[str]:
        """The assistant's answer to each chat, generated `batch_size` chats at a time."""
        settings, stop = self._settings(sampling)
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
                    by_index[i] = trim_at_stop(text, stop).rstrip("\ufffd").strip()
        return [by_index[i] for i in range(len(chats))]

    def stream(self, chat: Messages, **sampling: Any) -> Iterator[str]:
        """Yield the answer to one chat piece by piece as it is generated; stop strings are never yielded."""
        from transformers import TextIteratorStreamer

        settings, stop = self._settings(sampling)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        inputs = self._inputs([chat])
        self.model.eval()

        def run() -> None:
            with torch.inference_mode():
                self.model.generate(**inputs, **settings, streamer=streamer)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        hold = max((len(s) for s in stop), default=1) - 1  # a stop string may be split across pieces
        text, sent = "", 0
        for piece in streamer:
            text += piece
            trimmed = trim_at_stop(text, stop)
            stopped = len(trimmed) < len(text)
            if stopped:
                trimmed = trimmed.rstrip("\ufffd")  # as in generate_batch
            ready = len(trimmed) if stopped else max(sent, len(trimmed) - hold)
            if ready > sent:
                yield trimmed[sent:ready]
                sent = ready
            if stopped:
                break
        else:
            text = text.rstrip("\ufffd")  # as in generate_batch: a character cut off by max_new_tokens
            if len(text) > sent:
                yield text[sent:]
        worker.join()
