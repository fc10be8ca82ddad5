"""Instruction / chat fine-tuning of a causal LM: the loss covers assistant turns only; evaluation compares the
tuned model with its base on held-out conversations (loss, perplexity, ROUGE-L, exact match, side by side).

The data layer, training loop, PEFT methods and run directory are the pipeline's own; chat-specific parts live
beside this file (tasks/causal_lm_sft/).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from transformers import AutoModelForCausalLM, PreTrainedTokenizerBase

from tuneforge.config import Config
from tuneforge.config.sft import SftConfig
from tuneforge.data import PreparedData
from tuneforge.errors import ConfigError
from tuneforge.gguf_cache import hf_dir
from tuneforge.tasks.causal_lm_sft.batching import causal_lm_loss, pack_collate, pad_collate, token_losses
from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel, load_causal_lm
from tuneforge.tasks.causal_lm_sft.chats import Conversation
from tuneforge.tasks.causal_lm_sft.format import encode_chat
from tuneforge.tasks.causal_lm_sft.metrics import score_answers
from tuneforge.tasks.causal_lm_sft.prepare import prepare_chats
from tuneforge.tasks.causal_lm_sft.report import render_sft_report
from tuneforge.training.progress import progress
from tuneforge.training.task import Feature

__all__ = ["CausalLMSft"]


class CausalLMSft:
    """Everything the training loop needs to know about chat fine-tuning."""

    labels: list[str] = []
    main_metric = "loss"

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_length: int, sft: SftConfig, base_model: str) -> None:
        self.tokenizer, self.max_length, self.sft, self.base_model = tokenizer, max_length, sft, base_model
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.pad_id = tokenizer.pad_token_id

    @classmethod
    def prepare_data(cls, cfg: Config, tokenizer: PreTrainedTokenizerBase) -> PreparedData:
        if cfg.sft.chat_template:
            tokenizer.chat_template = cfg.sft.chat_template
        if not tokenizer.chat_template:
            raise ConfigError(f"model '{cfg.model}' has no chat template; give one in sft.chat_template")
        return prepare_chats(cfg, tokenizer)

    @classmethod
    def for_training(cls, cfg: Config, tokenizer: PreTrainedTokenizerBase, data: PreparedData) -> CausalLMSft:
        return cls(tokenizer, cfg.train.max_length, cfg.sft, cfg.model)

    def build_model(self, model_path: str) -> torch.nn.Module:
        return AutoModelForCausalLM.from_pretrained(hf_dir(model_path))

    def encode_examples(self, examples: Sequence[Conversation]) -> list[Feature]:
        features = []
        for conversation in examples:
            encoded = encode_chat(self.tokenizer, conversation.messages)
            # Over-long conversations left by sft.over_length: truncate keep their first max_length tokens.
            features.append(
                {"input_ids": encoded.input_ids[: self.max_length], "labels": encoded.labels[: self.max_length]}
            )
        return features

    def collate(self, features: Sequence[Feature]) -> dict[str, torch.Tensor]:
        return pad_collate(features, self.pad_id)

    def pack_collate(self, features: Sequence[Feature]) -> dict[str, torch.Tensor]:
        return pack_collate(features, self.pad_id)

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return causal_lm_loss(model, batch)

    def split_loss(
        self,
        model: torch.nn.Module,
        features: Sequence[Feature],
        *,
        batch_size: int,
        accelerator: Accelerator | None,
        description: str | None = None,
    ) -> float:
        """Mean loss per answer token over `features`; under DDP each process takes a shard. `description`: show a
        progress bar over the batches."""
        if accelerator is not None and accelerator.num_processes > 1:
            features = features[accelerator.process_index :: accelerator.num_processes]
        total = torch.zeros(2, dtype=torch.double)
        model.eval()
        starts = range(0, len(features), batch_size)
        with torch.inference_mode():
            for start in progress(starts, len(starts), description) if description else starts:
                losses, mask = token_losses(model, pad_collate(features[start : start + batch_size], self.pad_id))
                total += torch.tensor([float(losses.sum()), float(mask.sum())], dtype=torch.double)
        if accelerator is not None and accelerator.num_processes > 1:
            total = accelerator.reduce(total.to(accelerator.device), "sum").cpu()
        return float(total[0] / total[1].clamp(min=1))

    def evaluate(
        self, model: torch.nn.Module, features: Sequence[Feature], *, batch_size: int, accelerator: Accelerator | None
    ) -> dict[str, float]:
        loss = self.split_loss(model, features, batch_size=batch_size, accelerator=accelerator)
        return {"loss": loss, "perplexity": math.exp(min(loss, 50))}

    @contextlib.contextmanager
    def _base(self, model: torch.nn.Module) -> Iterator[torch.nn.Module]:
        """The untuned model: the same weights with the adapter switched off, or the base loaded afresh."""
        if hasattr(model, "disable_adapter"):
            with model.disable_adapter():
                yield model
        else:
            yield load_causal_lm(self.base_model)[0]

    def evaluate_examples(
        self, model: torch.nn.Module, examples: Sequence[Conversation], *, batch_size: int
    ) -> dict[str, Any]:
        """Loss and perplexity of the tuned and the base model, their answers' ROUGE-L and exact match, samples."""
        features = self.encode_examples(examples)
        asked = list(examples[: self.sft.eval_answers])
        prompts, references = [c.prompt for c in asked], [c.reference for c in asked]
        results: dict[str, Any] = {"size": len(examples), "answered": len(asked)}
        answers = {}
        for name, scope in (("tuned", contextlib.nullcontext(model)), ("base", self._base(model))):
            with scope as current:
                loss = self.split_loss(
                    current,
                    features,
                    batch_size=batch_size,
                    accelerator=None,
                    description=f"{name} model: loss on {len(features)} chats",
                )
                answers[name] = self._answers(
                    ChatModel(current, self.tokenizer, self.sft.generation), prompts, name, batch_size
                )
            prefix = "" if name == "tuned" else "base_"
            scores = {"loss": loss, "perplexity": math.exp(min(loss, 50)), **score_answers(answers[name], references)}
            results.update({prefix + key: value for key, value in scores.items()})
        results["loss_reduction"] = 1 - results["loss"] / results["base_loss"] if results["base_loss"] else 0.0
        results["samples"] = [
            {"question": c.question, "reference": c.reference, "base": base, "tuned": tuned, "line": c.line}
            for c, base, tuned in list(zip(asked, answers["base"], answers["tuned"], strict=True))[
                : self.sft.report_samples
            ]
        ]
        return results

    @staticmethod
    def _answers(chat: ChatModel, prompts: list[Any], name: str, batch_size: int) -> list[str]:
        """The model's answers, one batch per call so that a bar shows the progress (generation is the slowest
        phase of the evaluation: minutes for a few dozen answers on a CPU). Longest prompts first, as
        `generate_batch` orders them itself, so the batches are the ones one call would make."""
        order = sorted(range(len(prompts)), key=lambda i: -sum(len(m["content"]) for m in prompts[i]))
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        answers: dict[int, str] = {}
        for indices in progress(batches, len(batches), f"{name} model: answering {len(prompts)} questions"):
            answered = chat.generate_batch([prompts[i] for i in indices], batch_size=batch_size)
            answers.update(zip(indices, answered, strict=True))
        return [answers[i] for i in range(len(prompts))]

    def plots(self, run_dir: Path, results: dict[str, Any]) -> dict[str, str]:
        return {}

    def render_report(self, title: str, results: dict[str, Any], plots: dict[str, str] | None = None) -> str:
        return render_sft_report(title, results, plots)

    def headline(self, split_results: dict[str, Any]) -> str:
        r = split_results
        line = f"loss {r['loss']:.4f} (base {r['base_loss']:.4f}, {100 * r['loss_reduction']:.1f}% lower)"
        if "rouge_l" in r:
            line += f", ROUGE-L {r['rouge_l']:.1f} (base {r['base_rouge_l']:.1f})"
        return line

    def manifest(self) -> dict[str, Any]:
        return {
            "labels": [],
            "max_length": self.max_length,
            "sft": self.sft.model_dump(mode="json"),
            "generation": self.sft.generation.model_dump(mode="json"),
        }
