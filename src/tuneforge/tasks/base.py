"""What a task is: one `TaskSpec` row of `tasks.TASKS`, and the estimator its `load` returns.

Everything outside a task's own folder reaches the task through its row: `tuneforge train` calls `train`,
`data check` calls `check_data`, `predict`/`evaluate`/`serve` call `load` and then the estimator's methods,
`feedback export` writes rows with `feedback`, and the config validator reads `methods`, `options` and `rules`.
A row imports nothing heavy: each callable imports its task's modules when it runs, so `tuneforge --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from tuneforge.config import Config
    from tuneforge.data import DataReport

__all__ = ["NOT_LOGGED", "ContinualSpec", "Estimator", "FeedbackFormat", "InputKind", "Scores", "TaskSpec"]

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

    def preprocess(self, inputs: list[Any]) -> list[Any]:
        """Each input as the model sees it, cleaned as at training time: what the prediction log stores."""
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


NOT_LOGGED = "no logged text (served without --log-texts)"
"""Why a prediction's feedback is left out when its input was not logged: the reason feedback writers give."""


@dataclass(frozen=True)
class FeedbackFormat:
    """How the server's feedback on a task's predictions becomes a training file the task reads.

    `write(records, output, options)` gets, per prediction with feedback (by first feedback), a dict with the
    logged `input` (None unless served with --log-texts), the model's `output` and the latest non-null `label`,
    `answer`, `entities` and `rating` of its feedback, and the `feedback export` options `min_rating`,
    `text_column` and `label_column`. It writes the rows it can to `output` (a staging file the caller moves into
    place) and returns (rows written, reason rows were left out -> count).
    """

    suffixes: tuple[str, ...]  # file suffixes the task reads; the first names the format written
    unit: str  # what a written row is, for the summary line ("labelled texts", "conversations")
    write: Callable[[list[dict[str, Any]], Path, dict[str, Any]], tuple[int, dict[str, int]]]
    rated: bool = False  # --min-rating applies: the model's own outputs rated at least that are written too
    kinds: tuple[str, ...] = ()  # logged task names besides the row's own that it writes (a plain dir's kind)


Scores = dict[str, Any]
"""A model's scores on labelled examples, as continual rounds compare them: `main` (the score the gate reads),
`metric` (its name) and `per_class` (label -> {"f1", "support"})."""


@dataclass(frozen=True)
class ContinualSpec:
    """What `tuneforge retrain` (continual/) needs of a task whose served model keeps learning from its feedback.

    Rounds train through the shared loop (`loop_task`), starting from the champion's weights; they keep the
    training history, the replay reservoir and the regression set as data files the task reads (`write`).
    """

    loop_task: Callable[[], type]  # the task's LoopTask class, imported when a round runs
    text: Callable[[Any], str]  # an example's text: what duplicates of the training history are judged on
    label: Callable[[Any], str | None]  # its one class, for stratified splits and replay; None: it has no one class
    answer: Callable[[Any], Hashable]  # what a duplicate text must also repeat, or it is a conflict (a relabelling)
    label_set: Callable[[Any], set[str]]  # the label names it uses (classes, entity types): new ones grow the head
    write: Callable[[list[Any], Path], None]  # examples -> a data file of `suffix`, read back by the task as is
    # A loaded run's scores on labelled examples; with labels, it answers among those only (the champion's).
    score: Callable[[Estimator, list[Any], list[str] | None], Scores]
    suffix: str = ".csv"
    grows_head: bool = False  # new labels add rows to a classification head (the rows of known labels kept)


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
    options: tuple[str, ...] = ()  # config keys that only some tasks read, and this one does (tasks/rules.py)
    formats: tuple[str, ...] = ("auto", "csv", "tsv", "jsonl", "parquet")  # data.format values it reads
    packs: bool = False  # its loop task can pack several examples into one row (train.packing)
    rules: Callable[[Config], list[str]] = _no_rules  # the task's own config rules, one message per problem
    feedback: FeedbackFormat | None = None  # None: its feedback cannot be exported as training data
    continual: ContinualSpec | None = None  # None: `tuneforge retrain` refuses this task
    # Also serves a folder that is no run (a plain HF model dir): the kind it names such a folder, or None.
    plain_dir: Callable[[Path], str | None] | None = None
