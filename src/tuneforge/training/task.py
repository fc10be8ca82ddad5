"""What the training pipeline (`tuneforge.run`) needs of a task that trains through the shared loop.

`run.train_in_loop` calls, in order: `prepare_data` (read, validate, split, report), `for_training` (the task object of
this run: label set, tokenizer, lengths), `build_model`, then `encode_examples`/`collate`/`loss`/`evaluate` inside
the task-agnostic training loop, and finally `evaluate_examples`, `plots`, `render_report`, `headline` and
`manifest` to write the run directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch
    from accelerate import Accelerator
    from transformers import PreTrainedTokenizerBase

    from tuneforge.config import Config
    from tuneforge.data import PreparedData

__all__ = ["Batch", "Feature", "HeadInit", "LoopTask", "SelfFitting"]

Feature = dict[str, Any]  # one encoded example: `input_ids` plus the task's targets
Batch = dict[str, "torch.Tensor"]


class LoopTask(Protocol):
    labels: list[str]  # what the model's head predicts, in id order (class names, or NER tags)
    main_metric: str  # the validation score shown when early stopping watches none

    @classmethod
    def prepare_data(cls, cfg: Config, tokenizer: PreTrainedTokenizerBase) -> PreparedData:
        """Read, validate, clean and split the data files of `cfg`, with a DataReport."""
        ...

    @classmethod
    def for_training(cls, cfg: Config, tokenizer: PreTrainedTokenizerBase, data: PreparedData) -> LoopTask:
        """The task object of one training run."""
        ...

    def build_model(self, model_path: str) -> torch.nn.Module:
        """A pretrained encoder with a fresh head for `labels`, label names in its config."""
        ...

    def encode_examples(self, examples: Sequence[Any]) -> list[Feature]: ...

    def collate(self, features: Sequence[Feature]) -> Batch: ...

    def loss(self, model: torch.nn.Module, batch: Batch) -> torch.Tensor: ...

    def evaluate(
        self, model: torch.nn.Module, features: Sequence[Feature], *, batch_size: int, accelerator: Accelerator | None
    ) -> dict[str, float]:
        """Validation scores during training; early stopping watches one of them."""
        ...

    def evaluate_examples(self, model: torch.nn.Module, examples: Sequence[Any], *, batch_size: int) -> dict[str, Any]:
        """Every metric and table of one labelled split, for metrics.json and report.md."""
        ...

    def plots(self, run_dir: Path, results: dict[str, Any]) -> dict[str, str]:
        """Write the task's PNGs into `run_dir`; returns caption -> file name."""
        ...

    def render_report(self, title: str, results: dict[str, Any], plots: dict[str, str] | None = None) -> str: ...

    def headline(self, split_results: dict[str, Any]) -> str:
        """One line of the main scores of a split, for the terminal."""
        ...

    def manifest(self) -> dict[str, Any]:
        """What `load(run_dir)` needs besides the model: labels, max_length, ..."""
        ...


class HeadInit(Protocol):
    """Starts a new model's head before training (text classification's linear probe); returns what it found."""

    def __call__(
        self, model: torch.nn.Module, task: Any, train: Sequence[Any], validation: Sequence[Any], *, batch_size: int
    ) -> dict[str, Any]: ...


class SelfFitting(Protocol):
    """A method that builds (and maybe trains) its model its own way instead of the loop: zero-/few-shot.

    `fit` returns an object with `task`, `model`, `result` (a FitResult) and `seconds`; `save` writes the model
    into the run directory and returns the manifest entries, as `rundir.saved.save_model` does.
    """

    def fit(self, cfg: Config, data: PreparedData, run_dir: Path, accelerator: Accelerator, resume: bool) -> Any: ...

    def save(self, fitted: Any, run_dir: Path, cfg: Config) -> dict[str, Any]: ...
