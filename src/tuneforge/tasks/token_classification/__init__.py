"""Task `token-classification` (NER): entity spans in raw text. CoNLL and span-JSONL reading, IOB2 tags and
Viterbi decoding live here; it trains through the shared loop; `estimator.TokenClassifier` loads a run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tuneforge.tasks.base import ContinualSpec, FeedbackFormat, TaskSpec
from tuneforge.tasks.token_classification.continual import entity_spans, score_sentences, write_sentences
from tuneforge.tasks.token_classification.feedback import write_entity_spans

if TYPE_CHECKING:
    from tuneforge.config import Config
    from tuneforge.data import DataReport
    from tuneforge.tasks.token_classification.estimator import TokenClassifier

__all__ = ["TOKEN_CLASSIFICATION"]


def _loop_task() -> type:
    from tuneforge.tasks.token_classification.task import TokenClassification

    return TokenClassification


def _check_data(cfg: Config) -> DataReport:
    from tuneforge.run import check_loop_data

    return check_loop_data(cfg, _loop_task()).report


def _train(cfg: Config, resume: bool) -> Path:
    from tuneforge.run import train_in_loop

    return train_in_loop(cfg, _loop_task(), resume=resume)


def _load(run_dir: Path) -> TokenClassifier:
    from tuneforge.tasks.token_classification.estimator import TokenClassifier

    return TokenClassifier.load(run_dir)


def _rules(cfg: Config) -> list[str]:
    if cfg.data.clean.redact_pii:
        return ["data.clean.redact_pii is not supported for token-classification: it moves entity offsets"]
    return []


TOKEN_CLASSIFICATION = TaskSpec(
    name="token-classification",
    inputs="texts",
    main_metric="entity_f1",
    methods=("full", "freeze", "bitfit", "lora", "adalora", "ia3", "prefix", "prompt", "ptuning", "adapter"),
    options=("extend_vocab",),
    formats=("auto", "conll", "jsonl"),
    packs=True,
    rules=_rules,
    check_data=_check_data,
    train=_train,
    load=_load,
    feedback=FeedbackFormat(suffixes=(".jsonl",), unit="texts with corrected entities", write=write_entity_spans),
    continual=ContinualSpec(
        loop_task=_loop_task,
        text=lambda sentence: sentence.text,
        label=lambda sentence: None,
        answer=entity_spans,
        label_set=lambda sentence: {kind for _, _, kind in entity_spans(sentence)},
        write=write_sentences,
        score=score_sentences,
        suffix=".jsonl",
        grows_head=True,
    ),
)
