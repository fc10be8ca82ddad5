"""Task `text-classification`: one label per text. Fine-tuned through the shared loop with any weight-adapting
method, or fitted by a zero-/few-shot method of its own (fewshot/); `estimator.TextClassifier` loads a run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tuneforge.tasks.base import ContinualSpec, FeedbackFormat, TaskSpec
from tuneforge.tasks.text_classification.continual import score_texts, write_examples
from tuneforge.tasks.text_classification.feedback import write_labelled_texts

if TYPE_CHECKING:
    from tuneforge.config import Config
    from tuneforge.data import DataReport
    from tuneforge.tasks.text_classification.estimator import TextClassifier

__all__ = ["TEXT_CLASSIFICATION"]


def _check_data(cfg: Config) -> DataReport:
    from tuneforge.run import check_loop_data
    from tuneforge.tasks.text_classification.task import TextClassification

    return check_loop_data(cfg, TextClassification).report


def _train(cfg: Config, resume: bool) -> Path:
    from tuneforge.run import train_in_loop
    from tuneforge.tasks.text_classification.fewshot import FEW_SHOT
    from tuneforge.tasks.text_classification.probe import probe_head
    from tuneforge.tasks.text_classification.task import TextClassification

    init_head = probe_head if cfg.head_init == "probe" else None
    return train_in_loop(
        cfg, TextClassification, resume=resume, self_fitting=FEW_SHOT.get(cfg.method.name), init_head=init_head
    )


def _loop_task() -> type:
    from tuneforge.tasks.text_classification.task import TextClassification

    return TextClassification


def _load(run_dir: Path) -> TextClassifier:
    from tuneforge.tasks.text_classification.estimator import TextClassifier

    return TextClassifier.load(run_dir)


TEXT_CLASSIFICATION = TaskSpec(
    name="text-classification",
    inputs="texts",
    main_metric="macro_f1",
    methods=(
        *("full", "freeze", "bitfit", "lora", "adalora", "ia3", "prefix", "prompt", "ptuning", "adapter"),
        *("zeroshot-embed", "zeroshot-llm", "setfit"),
    ),
    options=("pooling", "head_init", "train.label_smoothing", "train.class_weights", "extend_vocab"),
    check_data=_check_data,
    train=_train,
    load=_load,
    feedback=FeedbackFormat(suffixes=(".csv",), unit="labelled texts", write=write_labelled_texts),
    continual=ContinualSpec(
        loop_task=_loop_task,
        text=lambda example: example.text,
        label=lambda example: example.label,
        answer=lambda example: example.label,
        label_set=lambda example: {example.label},
        write=write_examples,
        score=score_texts,
        grows_head=True,
    ),
)
