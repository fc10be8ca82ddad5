"""The data step of a round: the feedback since the last round, made into new rows (validated and cleaned as
training data, duplicates and conflicts with the history resolved), split into round-train and round-test, and
every data file the later steps read, written under the round's staging folder. `--dry-run` shows it and stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import get_console
from rich.table import Table

from tuneforge.config import Config
from tuneforge.continual.feedback import collect, is_store
from tuneforge.continual.rows import new_rows, replay_sample, split_round
from tuneforge.continual.state import launch_state, read_examples, read_state, write_state
from tuneforge.errors import ConfigError
from tuneforge.registry import ModelVersions, Version
from tuneforge.tasks import task_of
from tuneforge.tasks.base import ContinualSpec

__all__ = ["plan_round", "show"]

_REPLAYING = ("replay", "replay+lwf", "replay+ewc")


def plan_round(
    cfg: Config, spec: ContinualSpec, versions: ModelVersions, champion: Version, number: int, work: Path
) -> dict[str, Any]:
    from tuneforge.continual.training import round_tokenizer

    settings = cfg.continual
    tokenizer = round_tokenizer(champion.path)
    state = read_state(champion.path, spec, cfg, tokenizer)
    if state is None:  # a launch run: its state comes from its own data, kept with it for the next rounds
        state = launch_state(champion.path, spec, tokenizer)
        write_state(champion.path, state, spec, {"round": 0})
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    used = [r.get("through") for r in versions.rounds()]
    rated = task_of(champion.path)[0].feedback.rated  # chat: well-rated answers are rows too
    collected = collect(
        settings.feedback,
        data / f"feedback{spec.suffix}",
        model=versions.name,
        used=used,
        since_last=settings.since == "last-round",
        min_rating=settings.min_rating if rated else None,
    )
    plan: dict[str, Any] = {
        "round": number,
        "champion": champion.tag,
        "strategy": settings.strategy,
        "status": "planned",
        "note": "",
        "feedback": {"source": collected.source, "through": collected.through, "left_out": collected.skipped},
    }
    user_file = not is_store(settings.feedback)  # read with the config's columns, as its training data is
    feedback, rejected = (
        read_examples(collected.path, spec, cfg, tokenizer, user_file=user_file) if collected.path else ([], 0)
    )
    found = new_rows(feedback, state.history, spec, near_threshold=settings.near_duplicates)
    new_labels = sorted(set().union(*(spec.label_set(row) for row in found.rows)) - set(state.labels))
    if new_labels and settings.new_labels == "reject":
        raise ConfigError(
            f"the feedback has labels model {champion.tag} does not know: {', '.join(new_labels)}; "
            "set continual.new_labels: allow to grow the model's head, or correct the feedback"
        )
    plan["rows"] = {
        "feedback": len(feedback) + rejected,
        "rejected": rejected,
        "dropped": dict(found.dropped),
        "conflicts": found.conflicts,
        "new": len(found.rows),
    }
    plan["new_labels"], plan["labels"] = new_labels, [*state.labels, *new_labels]
    if len(found.rows) < settings.gate.min_new_rows:
        why = (
            collected.note
            or f"{len(found.rows)} new rows, fewer than continual.gate.min_new_rows ({settings.gate.min_new_rows})"
        )
        return {**plan, "status": "nothing to do", "note": why}
    round_train, round_test = split_round(
        found.rows, spec, test_share=settings.test_share, seed=cfg.train.seed + number
    )
    history = [row for i, row in enumerate(state.history) if i not in found.superseded]
    replay = state.replay or replay_sample(
        history, spec, size=settings.replay.size, per_class_min=settings.replay.per_class_min, seed=cfg.train.seed
    )
    if settings.strategy == "from-scratch":
        train = [*history, *round_train]
    elif settings.strategy in _REPLAYING:
        train = [*round_train, *replay]
    else:
        train = list(round_train)
    history_after = [*history, *round_train]
    files = {
        "train": train,
        "round_test": round_test,
        "regression": state.regression,
        "replay": replay,
        "history_after": history_after,
        "regression_after": [*state.regression, *round_test],
        "replay_after": replay_sample(
            history_after,
            spec,
            size=settings.replay.size,
            per_class_min=settings.replay.per_class_min,
            seed=cfg.train.seed + number,
        ),
    }
    plan["files"] = {}
    for name, rows in files.items():
        path = data / f"{name}{spec.suffix}"
        spec.write(rows, path)
        plan["files"][name] = str(path)
    plan["files"]["feedback"] = str(collected.path)
    plan["rows"] |= {name: len(rows) for name, rows in files.items() if name in ("train", "round_test", "replay")}
    plan["rows"]["regression"] = len(state.regression)
    plan["note"] = f"{len(found.rows)} new rows"
    return plan


def show(plan: dict[str, Any]) -> None:
    console = get_console()
    rows = plan.get("rows", {})
    table = Table(
        title=f"round {plan['round']} from champion {plan['champion']} ({plan['strategy']})", show_header=False
    )
    table.add_row("feedback", f"{plan['feedback']['source']}: {rows.get('feedback', 0)} rows")
    if rows.get("rejected"):
        table.add_row("rejected", f"{rows['rejected']} rows failed validation (see the data rules of training)")
    for reason, count in rows.get("dropped", {}).items():
        table.add_row("dropped", f"{count} {reason}")
    if rows.get("conflicts"):
        table.add_row("conflicts", f"{rows['conflicts']} texts came with another label; the newest is kept")
    for reason, count in plan["feedback"].get("left_out", {}).items():
        table.add_row("left out", f"{count}: {reason}")
    table.add_row("new rows", str(rows.get("new", 0)))
    if plan.get("new_labels"):
        table.add_row("new labels", ", ".join(plan["new_labels"]))
    if "train" in rows:
        table.add_row("training", f"{rows['train']} rows ({rows.get('replay', 0)} in the replay reservoir)")
        table.add_row("round test", f"{rows['round_test']} rows; regression set {rows['regression']} rows")
    console.print(table)
    if plan["status"] == "nothing to do":
        console.print(f"nothing to do: {plan['note']}", markup=False, highlight=False)
