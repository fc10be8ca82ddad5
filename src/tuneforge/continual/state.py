"""What a model version keeps for the rounds after it, in `<run>/continual/`: the training history (every row it
learned from, what duplicates are judged against and what from-scratch retrains on), the regression set (the
launch test split and every earlier round's test rows: it only grows), the replay reservoir and the labels.

A launch run has none: its state is read from its own data files, split exactly as its training split them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.config import Config, DataConfig, SplitConfig
from tuneforge.errors import DataError, RunError
from tuneforge.tasks.base import ContinualSpec

__all__ = ["ContinualState", "read_examples", "read_state", "sha256", "write_state"]

_FILES = ("history", "regression", "replay")


@dataclass
class ContinualState:
    history: list[Any]
    regression: list[Any]
    replay: list[Any]
    labels: list[str]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_examples(
    path: Path, spec: ContinualSpec, cfg: Config, tokenizer: Any, *, user_file: bool = False
) -> tuple[list[Any], int]:
    """The examples of a data file, validated and cleaned as `cfg`'s training data is (every row kept, none
    split off or deduplicated: rounds judge duplicates themselves), and the number of rows rejected. Files the
    round wrote itself (and feedback exports) have the columns text and label; a user's file has the config's."""
    lines = sum(1 for line in path.open(encoding="utf-8", errors="replace") if line.strip())
    if lines <= (path.suffix in (".csv", ".tsv")):  # nothing but a header: no rows to read
        return [], 0
    data = DataConfig(
        train=path,
        text_column=cfg.data.text_column if user_file else "text",
        label_column=cfg.data.label_column if user_file else "label",
        split=SplitConfig(validation=0, test=0),
        on_error="skip",
        clean=cfg.data.clean.model_copy(update={"dedup": False}),
        ner=cfg.data.ner,
    )
    try:
        prepared = spec.loop_task().prepare_data(cfg.model_copy(update={"data": data}), tokenizer)
    except DataError as exc:
        if "no training rows left" in str(exc):  # every row rejected
            return [], max(lines - 1, len(exc.problems))
        raise
    return list(prepared.train), len({(e.source, e.line) for e in prepared.rejected})


def read_state(run_dir: Path, spec: ContinualSpec, cfg: Config, tokenizer: Any) -> ContinualState | None:
    folder = run_dir / "continual"
    if not (folder / "state.json").is_file():
        return None
    labels = json.loads((folder / "state.json").read_text(encoding="utf-8"))["labels"]
    sets = {name: read_examples(folder / f"{name}{spec.suffix}", spec, cfg, tokenizer)[0] for name in _FILES}
    return ContinualState(sets["history"], sets["regression"], sets["replay"], labels)


def launch_state(run_dir: Path, spec: ContinualSpec, tokenizer: Any) -> ContinualState:
    """The state of a run trained by `tuneforge train`: its own config's data, read and split as it was."""
    from tuneforge.rundir import run_config

    cfg = run_config(run_dir)
    for name in ("train", "validation", "test"):
        path = getattr(cfg.data, name)
        if path is not None and not path.is_file():
            raise RunError(
                f"{run_dir}: its data.{name} file {path} is gone; a first round needs the launch run's data "
                "(run retrain where the run was trained, or put the file back)"
            )
    data = spec.loop_task().prepare_data(cfg, tokenizer)
    return ContinualState([*data.train, *data.validation], list(data.test), [], list(data.labels))


def write_state(run_dir: Path, state: ContinualState, spec: ContinualSpec, extra: dict[str, Any]) -> dict[str, str]:
    """Write `state` into `run_dir/continual/` as a whole (a reader sees the old folder or the new one) and return
    each file's sha256."""
    folder, staging = run_dir / "continual", run_dir / "continual.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    hashes = {}
    for name in _FILES:
        path = staging / f"{name}{spec.suffix}"
        spec.write(getattr(state, name), path)
        hashes[name] = sha256(path)
    counts = {name: len(getattr(state, name)) for name in _FILES}
    (staging / "state.json").write_text(
        json.dumps({"labels": state.labels, "rows": counts, "sha256": hashes, **extra}, indent=2), encoding="utf-8"
    )
    old = run_dir / "continual.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return hashes
