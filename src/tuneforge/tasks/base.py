"""What a task is: one `TaskSpec` row of `tasks.TASKS`, and the estimator its `load` returns.

Everything outside a task's own folder reaches the task through its row: `tuneforge train` calls `train`,
`data check` calls `check_data`, `predict`/`evaluate`/`serve` call `load` and then the estimator's methods,
`feedback export` writes rows with `feedback`, and the config validator reads `methods`, `options` and `rules`.
A row imports nothing heavy: each callable imports its task's modules when it runs, so `tuneforge --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from tuneforge.config import Config
    from tuneforge.data import DataReport

__all__ = ["Estimator", "FeedbackFormat", "InputKind", "TaskSpec"]

InputKind = Literal["texts", "records", "chats"]
"""What one prediction takes: a text, a JSON object (a table row, a user), or a chat."""


class Estimator(Protocol):
    """A finished run, loaded: what `tuneforge.load(run_dir)` returns for every task."""

    def predict(self, inputs: list[Any]) -> list[Any]:
        """One result per input, in the task's own Python form."""
        ...

    def predict_json(self, inputs: list[Any]) -> list[dict[str, Any]]:
        """One JSON-able object per input: what the HTTP API returns."""
        ...

    def show(self, inputs: list[Any]) -> None:
        """Print the predictions of a few inputs as a table (`tuneforge predict --text`)."""
        ...

    def predict_file(self, source: Path, output: Path, *, text_column: str | None = None) -> None:
        """Write the predictions of every row of `source` to `output`, keeping the input columns."""
        ...

    def evaluate_file(self, source: Path) -> dict[str, Any]:
        """Scores on a labelled file read as in training; also written under RUN_DIR/evaluations/."""
        ...


@dataclass(frozen=True)
class FeedbackFormat:
    """How the server's feedback on a task's predictions becomes a training file the task reads.

    `write(records, output, options)` gets, per prediction with feedback, a dict with the logged `input`, the
    model's `output`, the latest `correction` and `rating`, and writes them; it returns (rows written, reasons
    rows were left out -> count).
    """

    suffixes: tuple[str, ...]  # file suffixes the task reads
    unit: str  # what a written row is, for the summary line ("labelled texts", "conversations")
    write: Callable[[list[dict[str, Any]], Path, dict[str, Any]], tuple[int, dict[str, int]]]


def _no_rules(cfg: Config) -> list[str]:
    return []


@dataclass(frozen=True)
class TaskSpec:
    """One task: its name in configs and manifests, and what the rest of tuneforge may ask of it."""

    name: str
    inputs: InputKind
    main_metric: str  # the score early stopping watches unless the config names another
    methods: tuple[str, ...]  # names in METHODS this task can train with
    check_data: Callable[[Config], DataReport]  # validate and profile the data without training
    train: Callable[[Config, bool], Path]  # (cfg, resume) -> the finished run directory
    load: Callable[[Path], Estimator]  # a finished run directory -> its estimator
    options: tuple[str, ...] = ()  # top-level config keys only this task reads (e.g. "pooling", "tabular")
    rules: Callable[[Config], list[str]] = _no_rules  # the task's own config rules, one message per problem
    feedback: FeedbackFormat | None = None  # None: its feedback cannot be exported as training data
    # Also serves a folder that is no run (a plain HF model dir): the kind it names such a folder, or None.
    plain_dir: Callable[[Path], str | None] | None = None
