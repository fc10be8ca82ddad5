"""Token classification (NER): words → sub-tokens → windows, loss on first sub-tokens, word tags → entity spans.

Alignment: a fast tokenizer splits each word into sub-tokens (`word_ids`); the first sub-token of a word carries
its tag, the others -100, which the loss ignores. A sentence longer than max_length becomes overlapping windows
of whole words (`stride` tokens shared); each word's prediction comes from the window where it has the most
context on both sides, so nothing is ever truncated.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from transformers import AutoModelForTokenClassification, PreTrainedTokenizerBase

from tuneforge.config import Config
from tuneforge.data.prepare import PreparedData
from tuneforge.errors import ConfigError
from tuneforge.models import load_pretrained
from tuneforge.tasks.token_classification.metrics import entity_errors, entity_metrics, token_metrics
from tuneforge.tasks.token_classification.prepare import prepare_tagged_data
from tuneforge.tasks.token_classification.report import render_ner_report
from tuneforge.tasks.token_classification.tags import TaggedText, entities_of
from tuneforge.training.batching import IGNORE, pack_batch  # IGNORE: special tokens, padding, later sub-tokens
from tuneforge.training.progress import progress
from tuneforge.training.task import Batch, Feature

__all__ = ["TokenClassification", "build_tagger", "decode_tags", "spans_of", "tag_set"]

# A split with at least this many gold entities of which the model finds at most this share: it tags (almost) all O.
COLLAPSE_MIN_ENTITIES, COLLAPSE_FOUND_SHARE = 10, 0.1


def tag_set(types: Sequence[str]) -> list[str]:
    """The IOB2 tags of entity types, in the order of the model's head: O, then B-/I- per type."""
    return ["O", *(f"{prefix}-{kind}" for kind in types for prefix in ("B", "I"))]


def build_tagger(model_path: str, tags: list[str]) -> torch.nn.Module:
    """A pretrained encoder with a fresh token-classification head whose config carries the tag names."""
    return load_pretrained(
        AutoModelForTokenClassification,
        model_path,
        num_labels=len(tags),
        id2label=dict(enumerate(tags)),
        label2id={tag: i for i, tag in enumerate(tags)},
    )


def decode_tags(probabilities: np.ndarray, tags: list[str]) -> tuple[list[str], list[float]]:
    """The most likely valid IOB2 tag sequence and each word's probability of its tag.

    Viterbi over the words' log-probabilities where I-X may only follow B-X or I-X. Taking each word's best tag
    leaves stray I- tags, mostly wrong: on CoNLL-2003 (MiniLM, 1 epoch) reading them as B- scored entity F1 0.8342,
    dropping them (seqeval strict) 0.8441, this decoding 0.8476.
    """
    if not len(probabilities):
        return [], []
    log_p = np.log(np.clip(probabilities, 1e-12, None))
    inside = [tag[2:] if tag.startswith("I-") else None for tag in tags]
    allowed = np.array(
        [[kind is None or prev[2:] == kind and prev[:2] in ("B-", "I-") for kind in inside] for prev in tags]
    )
    step = np.where(allowed, 0.0, -np.inf)  # step[previous tag, tag]
    score = log_p[0] + np.where([kind is None for kind in inside], 0.0, -np.inf)
    back = np.zeros(log_p.shape, dtype=np.int64)
    for word in range(1, len(log_p)):
        total = score[:, None] + step
        back[word] = total.argmax(0)
        score = total.max(0) + log_p[word]
    best = [int(score.argmax())]
    for word in range(len(log_p) - 1, 0, -1):
        best.append(int(back[word, best[-1]]))
    best.reverse()
    return [tags[i] for i in best], [float(probabilities[w, i]) for w, i in enumerate(best)]


class TokenClassification:
    """Everything the training loop and the predictor need to know about NER."""

    main_metric = "entity_f1"

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, labels: list[str], max_length: int, stride: int | None = None
    ) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise ConfigError("token classification needs a fast tokenizer (word_ids); this model has none")
        self.tokenizer, self.labels, self.max_length = tokenizer, labels, max_length
        self.tag_ids = {tag: i for i, tag in enumerate(labels)}
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # The special tokens the tokenizer puts around a text ([CLS] ... [SEP] for BERT), read off a probe.
        probe = tokenizer([["a"]], is_split_into_words=True, add_special_tokens=True)
        ids, words = probe["input_ids"][0], probe.word_ids(0)
        first, last = words.index(0), len(words) - 1 - words[::-1].index(0)
        self._before, self._after = ids[:first], ids[last + 1 :]
        self._prefix = len(self._before)
        self.window = max_length - len(self._before) - len(self._after)
        self.stride = min(max_length // 4 if stride is None else stride, self.window // 2)

    @classmethod
    def prepare_data(cls, cfg: Config, tokenizer: PreTrainedTokenizerBase) -> PreparedData:
        def count_tokens(sentences: list[list[str]]) -> list[int]:
            encoded = tokenizer(sentences, is_split_into_words=True, add_special_tokens=True)["input_ids"]
            return [len(ids) for ids in encoded]

        return prepare_tagged_data(cfg.data, max_length=cfg.train.max_length, count_tokens=count_tokens)

    @classmethod
    def for_training(cls, cfg: Config, tokenizer: PreTrainedTokenizerBase, data: PreparedData) -> TokenClassification:
        return cls(tokenizer, tag_set(data.labels), cfg.train.max_length, cfg.train.stride)

    def build_model(self, model_path: str) -> torch.nn.Module:
        return build_tagger(model_path, self.labels)

    def encode_examples(self, examples: Sequence[TaggedText]) -> list[Feature]:
        return self.encode([e.words for e in examples], [e.tags for e in examples])

    def encode(self, sentences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None = None) -> list[Feature]:
        """Windows of every sentence: input_ids, labels (with tags), and which word each first sub-token starts.

        Features of one sentence share `sentence` (its index) and `gold` (its tags, when given).
        """
        kept = [i for i, words in enumerate(sentences) if words]
        if not kept:
            return []
        # NFKC per word: full-width "Ａ１０２９" reaches the vocabulary as "A1029"; offsets stay on the raw text.
        words = [[unicodedata.normalize("NFKC", w) or w for w in sentences[i]] for i in kept]
        encoded = self.tokenizer(words, is_split_into_words=True, add_special_tokens=False)
        features: list[Feature] = []
        for row, i in enumerate(kept):
            word_ids = encoded.word_ids(row)
            gold = tuple(tags[i]) if tags is not None else None
            for start, end in self._windows(word_ids):
                feature = self._feature(encoded["input_ids"][row], word_ids, start, end, gold)
                features.append({**feature, "sentence": i, "words": len(sentences[i])})
        return features

    def _windows(self, word_ids: list[int | None]) -> list[tuple[int, int]]:
        """Token ranges of at most `window` tokens that start and end at word boundaries, `stride` overlapping.
        A single word longer than a window is cut (its first sub-token still carries its tag)."""
        total, windows, start = len(word_ids), [], 0

        def inside_word(position: int) -> bool:
            return 0 < position < total and word_ids[position] == word_ids[position - 1]

        while True:
            end = min(start + self.window, total)
            boundary = end
            while boundary > start and inside_word(boundary):
                boundary -= 1
            end = boundary if boundary > start else end
            windows.append((start, end))
            if end >= total:
                return windows
            start = max(end - self.stride, start + 1)
            while start < end and inside_word(start):
                start += 1

    def _feature(
        self, ids: list[int], word_ids: list[int | None], start: int, end: int, gold: tuple | None
    ) -> Feature:
        first = [
            (self._prefix + p - start, word_ids[p])
            for p in range(start, end)
            if word_ids[p] is not None and (p == 0 or word_ids[p] != word_ids[p - 1])
        ]
        input_ids = [*self._before, *ids[start:end], *self._after]
        feature: Feature = {
            "input_ids": input_ids,
            "first": first,  # (position in input_ids, word index) of each word's first sub-token
            "span": (start, end, len(word_ids)),
        }
        if gold is not None:
            labels = [IGNORE] * len(input_ids)
            for position, word in first:
                labels[position] = self.tag_ids[gold[word]]
            feature["labels"], feature["gold"] = labels, gold
        return feature

    def collate(self, features: Sequence[Feature]) -> Batch:
        """Pad to the longest window of the batch; padded labels are ignored by the loss."""
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        labels = torch.full((len(features), width), IGNORE, dtype=torch.long)
        for row, feature in enumerate(features):
            n = len(feature["input_ids"])
            ids[row, :n] = torch.tensor(feature["input_ids"])
            mask[row, :n] = 1
            if "labels" in feature:
                labels[row, :n] = torch.tensor(feature["labels"])
        batch = {"input_ids": ids, "attention_mask": mask}
        if "labels" in features[0]:
            batch["labels"] = labels
        return batch

    def pack_collate(self, features: Sequence[Feature]) -> Batch:
        """The batch's windows packed into as few rows as fit (as long as the longest window), no padding between.

        Each window attends only to itself (a block-diagonal mask) and its positions restart at 0, so its logits
        are those of the window alone; the tail padding of a row is a block of its own. `real_tokens` counts
        the windows' tokens for the loop's tokens/s.
        """
        batch = pack_batch(features, self.pad_id)
        blocks = batch.pop("blocks")
        batch["attention_mask"] = blocks[:, None, :, None] == blocks[:, None, None, :]  # (rows, 1, query, key)
        return batch

    def loss(self, model: torch.nn.Module, batch: Batch) -> torch.Tensor:
        logits = _token_logits(model, batch["input_ids"], batch["attention_mask"], batch.get("position_ids"))
        labels = batch["labels"].to(logits.device)
        if not (labels != IGNORE).any():  # a batch of words without sub-tokens: nothing to learn, no NaN
            return logits.sum() * 0.0
        return torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), ignore_index=IGNORE)

    def word_probabilities(
        self, model: torch.nn.Module, features: Sequence[Feature], *, batch_size: int, description: str | None = None
    ) -> tuple[dict[int, np.ndarray], float, int]:
        """Tag probabilities per word of each sentence (rows: words; words without sub-tokens stay all-zero),
        merged over windows, plus the summed loss and the number of labelled words; with a `description`, a
        progress bar over the batches."""
        n_words = {f["sentence"]: f["words"] for f in features}
        probabilities = {s: np.zeros((n, len(self.labels)), dtype=np.float32) for s, n in n_words.items()}
        context = {s: np.full(n, -1.0) for s, n in n_words.items()}
        loss_sum, labelled = 0.0, 0
        order = sorted(range(len(features)), key=lambda i: -len(features[i]["input_ids"]))
        device = next(model.parameters()).device
        model.eval()
        starts = range(0, len(order), batch_size)
        with torch.inference_mode():
            for begin in progress(starts, len(starts), description) if description else starts:
                chunk = [features[i] for i in order[begin : begin + batch_size]]
                batch = self.collate(chunk)
                logits = _token_logits(model, batch["input_ids"].to(device), batch["attention_mask"].to(device))
                logits = logits.float().cpu()
                if "labels" in batch:
                    mask = batch["labels"] != IGNORE
                    loss_sum += float(
                        torch.nn.functional.cross_entropy(logits[mask], batch["labels"][mask], reduction="sum")
                    )
                    labelled += int(mask.sum())
                softmax = logits.softmax(-1).numpy()
                for row, feature in enumerate(chunk):
                    self._merge(
                        feature, softmax[row], probabilities[feature["sentence"]], context[feature["sentence"]]
                    )
        return probabilities, loss_sum, labelled

    def _merge(self, feature: Feature, softmax: np.ndarray, into: np.ndarray, context: np.ndarray) -> None:
        """Keep each word's probabilities from the window where it sees the most tokens on its shorter side."""
        start, end, total = feature["span"]
        for position, word in feature["first"]:
            token = position - self._prefix + start
            left = token - start if start > 0 else math.inf
            right = end - 1 - token if end < total else math.inf
            if min(left, right) > context[word]:
                context[word] = min(left, right)
                into[word] = softmax[position]

    def predict_tags(
        self, model: torch.nn.Module, features: Sequence[Feature], *, batch_size: int, description: str | None = None
    ) -> tuple[dict[int, tuple[list[str], list[float]]], float]:
        """Predicted IOB2 tags and their probabilities per sentence index, and the mean loss on labelled words."""
        probabilities, loss_sum, labelled = self.word_probabilities(
            model, features, batch_size=batch_size, description=description
        )
        decoded = {s: decode_tags(p, self.labels) for s, p in probabilities.items()}
        return decoded, loss_sum / max(labelled, 1)

    def evaluate(
        self, model: torch.nn.Module, features: Sequence[Feature], *, batch_size: int, accelerator: Accelerator | None
    ) -> dict[str, float]:
        """loss, entity-level (seqeval strict IOB2) and token-level scores; under DDP each process takes a shard."""
        gold = {f["sentence"]: f["gold"] for f in features}
        shard = features
        if accelerator is not None and accelerator.num_processes > 1:
            shard = [f for f in features if f["sentence"] % accelerator.num_processes == accelerator.process_index]
        decoded, loss = self.predict_tags(model, shard, batch_size=batch_size)
        pairs = [(list(gold[s]), tags) for s, (tags, _) in decoded.items()]
        losses = [(loss, len(pairs))]
        if accelerator is not None and accelerator.num_processes > 1:
            from accelerate.utils import gather_object

            pairs, losses = gather_object(pairs), gather_object(losses)
        scores = self.scores([g for g, _ in pairs], [p for _, p in pairs])
        mean_loss = sum(value * n for value, n in losses) / max(sum(n for _, n in losses), 1)
        return {"loss": mean_loss, **{k: v for k, v in scores.items() if isinstance(v, float)}}

    def scores(self, gold: list[list[str]], predicted: list[list[str]]) -> dict[str, Any]:
        return {**entity_metrics(gold, predicted), **token_metrics(gold, predicted, self.labels)}

    def evaluate_examples(
        self, model: torch.nn.Module, examples: Sequence[TaggedText], *, batch_size: int
    ) -> dict[str, Any]:
        """Every score of a labelled split: entity and token level, per type and tag, and the error table."""
        decoded, loss = self.predict_tags(
            model,
            self.encode_examples(examples),
            batch_size=batch_size,
            description=f"evaluating {len(examples)} sentences",
        )
        gold = [list(e.tags) for e in examples]
        predicted = [decoded[i][0] if i in decoded else ["O"] * len(e.tags) for i, e in enumerate(examples)]
        return {
            "loss": loss,
            **self.scores(gold, predicted),
            "errors": entity_errors([e.text for e in examples], [e.offsets for e in examples], gold, predicted),
            "size": len(examples),
            "entities": sum(len(entities_of(tags)) for tags in gold),
            "predicted_entities": sum(len(entities_of(tags)) for tags in predicted),
        }

    def plots(self, run_dir: Path, results: dict[str, Any]) -> dict[str, str]:
        return {}

    def render_report(self, title: str, results: dict[str, Any], plots: dict[str, str] | None = None) -> str:
        return render_ner_report(title, results, plots=plots)

    def warnings(self, results: dict[str, Any]) -> list[str]:
        """A model that finds no or almost no entities in the test split (validation without one)."""
        split = "test" if "test" in results else "validation"
        scores = results.get(split)
        if not scores or "predicted_entities" not in scores:
            return []
        gold, found = scores["entities"], scores["predicted_entities"]
        if gold < COLLAPSE_MIN_ENTITIES or found > COLLAPSE_FOUND_SHARE * gold:
            return []
        return [
            f"{split}: the model found {found} entities where the data has {gold} (token accuracy "
            f"{scores['token_accuracy']:.4f} is about that of tagging every word O): it has collapsed to O. Try more "
            "train.epochs, another train.lr (too low leaves the new head at O, too high collapses it), and check that "
            "the training tags are IOB2 with enough entities of each type"
        ]

    def headline(self, split_results: dict[str, Any]) -> str:
        r = split_results
        return (
            f"entity F1 {r['entity_f1']:.4f} (precision {r['entity_precision']:.4f}, recall {r['entity_recall']:.4f}),"
            f" token accuracy {r['token_accuracy']:.4f}"
        )

    def manifest(self) -> dict[str, Any]:
        return {"labels": self.labels, "max_length": self.max_length, "stride": self.stride}


def _token_logits(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    position_ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """Logits of the input's own tokens: prompt and p-tuning put learned virtual tokens first, with logits of their
    own that PEFT does not strip for token classification. A 4D boolean mask (packed rows) is what SDPA takes;
    eager attention adds its mask to the scores, so it gets 0 / -inf-like values instead."""
    extra = {} if position_ids is None else {"position_ids": position_ids}
    if attention_mask.dim() == 4 and getattr(model.config, "_attn_implementation", "sdpa") == "eager":
        blocked = torch.finfo(model.dtype).min
        zeros = torch.zeros(attention_mask.shape, dtype=model.dtype, device=attention_mask.device)
        attention_mask = zeros.masked_fill(~attention_mask, blocked)
    logits = model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits
    return logits[:, -input_ids.shape[1] :]


def spans_of(text: str, offsets: Sequence[tuple[int, int]], tags: list[str], scores: list[float]) -> list[dict]:
    """Entities of word tags as character spans of `text`, scored by the mean probability of their words' tags."""
    spans = []
    for entity in entities_of(tags):
        start, end = offsets[entity.start][0], offsets[entity.end - 1][1]
        score = float(np.mean(scores[entity.start : entity.end]))
        spans.append({"start": start, "end": end, "text": text[start:end], "label": entity.label, "score": score})
    return spans
