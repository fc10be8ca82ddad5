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
    spec: ContinualSpec, cfg: Config, champion: Path, challenger: Path, plan: dict[str, Any], tokenizer: Any
) -> dict[str, Any]:
    """Both models on the regression set and the round's test rows. When the round added labels, the challenger's
    regression scores are taken among the champion's labels (what it knew, where the champion answers too; the
    champion cannot be wrong with a label it does not have), and its scores over all its labels are kept beside."""
    import tuneforge.tasks

    files = plan["files"]
    sets = {
        "regression": read_examples(Path(files["regression"]), spec, cfg, tokenizer)[0],
        "round_test": read_examples(Path(files["round_test"]), spec, cfg, tokenizer)[0],
    }
    known = [label for label in plan["labels"] if label not in plan["new_labels"]]
    scores: dict[str, Any] = {}
    for who, run_dir in (("champion", champion), ("challenger", challenger)):
        estimator = tuneforge.tasks.load(run_dir)
        get_console().print(f"scoring the {who} on {sum(map(len, sets.values()))} rows…", markup=False)
        scores[who] = {name: spec.score(estimator, rows, None) for name, rows in sets.items()}
        if who == "challenger" and plan["new_labels"]:
            scores[who]["regression_all_labels"] = scores[who]["regression"]
            scores[who]["regression"] = spec.score(estimator, sets["regression"], known)
    return scores
