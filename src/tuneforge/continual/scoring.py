"""Champion and challenger scored on the same rows: the regression set and the round's test rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import get_console

from tuneforge.config import Config
from tuneforge.continual.state import read_examples
from tuneforge.tasks.base import ContinualSpec

__all__ = ["score_both"]


def score_both(
    spec: ContinualSpec, cfg: Config, champion: Path, challenger: Path, files: dict[str, str], tokenizer: Any
) -> dict[str, Any]:
    import tuneforge.tasks

    sets = {
        "regression": read_examples(Path(files["regression"]), spec, cfg, tokenizer)[0],
        "round_test": read_examples(Path(files["round_test"]), spec, cfg, tokenizer)[0],
    }
    scores: dict[str, Any] = {}
    for who, run_dir in (("champion", champion), ("challenger", challenger)):
        estimator = tuneforge.tasks.load(run_dir)
        get_console().print(f"scoring the {who} on {sum(map(len, sets.values()))} rows…", markup=False)
        scores[who] = {name: spec.score(estimator, rows) for name, rows in sets.items()}
    return scores
