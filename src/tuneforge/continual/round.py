"""One continual round, `tuneforge retrain CONFIG --champion NAME`: feedback → new rows → challenger trained from
the champion → both evaluated → gate → a new version in the registry, promoted when the gate says so.

Every step writes its result into the round's staging folder in the registry before the next starts, and a rerun
after a crash (kill -9 included) continues from the last finished step: the data step is not redone (the same
rows), training resumes from its checkpoint, and a version is registered, recorded and promoted once. The
champion pointer moves only at the end, atomically: until then the server keeps answering from the champion.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import get_console

from tuneforge.config import Config
from tuneforge.continual import plan as planning
from tuneforge.continual.feedback import shown_source
from tuneforge.continual.gate import decide
from tuneforge.continual.state import ContinualState, sha256, write_state
from tuneforge.errors import ConfigError, RunError
from tuneforge.registry import ModelVersions
from tuneforge.rundir import write_json
from tuneforge.tasks import TASKS, task_of
from tuneforge.tasks.base import ContinualSpec

__all__ = ["RoundOutcome", "retrain"]


@dataclass(frozen=True)
class RoundOutcome:
    status: str  # "nothing to do", "planned" (dry run), "promoted", "rejected"
    version: str | None = None
    reasons: tuple[str, ...] = ()


def retrain(cfg: Config, *, champion: str, registry: Path, dry_run: bool = False) -> RoundOutcome:
    if cfg.continual is None:
        raise ConfigError("retrain needs a `continual:` block in the config (feedback, strategy, gate)")
    versions = ModelVersions(registry, champion)
    current = versions.champion()
    if current is None:
        raise RunError(
            f"no champion of '{champion}' in {registry}: register the launch run first, e.g. "
            f"tuneforge models add {champion} runs/{champion} --registry {registry}"
        )
    spec = _continual_spec(current.path)
    number = 1 + max((r.get("round", 0) for r in versions.rounds()), default=0)
    work = versions.staging(f"round-{number}")
    plan_file = work / "plan.json"
    if plan_file.is_file():
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
        get_console().print(f"round {number}: continuing the interrupted round (champion {plan['champion']})")
    else:
        plan = planning.plan_round(cfg, spec, versions, current, number, work)
        if plan["status"] == "planned" and not dry_run:
            write_json(plan_file, plan)  # from here on the round is fixed: a rerun continues it
    planning.show(plan)
    if plan["status"] != "planned" or dry_run:
        if not plan_file.is_file():
            shutil.rmtree(work, ignore_errors=True)
        return RoundOutcome(plan["status"] if plan["status"] != "planned" else "planned", reasons=(plan["note"],))
    return _run(cfg, spec, versions, plan, work)


def _continual_spec(run_dir: Path) -> ContinualSpec:
    spec, _ = task_of(run_dir)
    if spec.continual is None:
        able = ", ".join(name for name, row in TASKS.items() if row.continual)
        raise ConfigError(f"{run_dir}: a {spec.name} model; continual rounds train {able} models")
    return spec.continual


def _run(cfg: Config, spec: ContinualSpec, versions: ModelVersions, plan: dict[str, Any], work: Path) -> RoundOutcome:
    from tuneforge.continual.training import train_challenger

    champion = versions.version(plan["champion"])
    registered = next((v for v in versions.versions() if v.lineage.get("round") == plan["round"]), None)
    if registered is None:
        challenger = work / "challenger"
        if not (challenger / "manifest.json").is_file():
            started = time.perf_counter()
            train_challenger(cfg, spec, champion.path, plan, work)
            plan["train_wall_seconds"] = round(time.perf_counter() - started, 2)
            write_json(work / "plan.json", plan)
        evaluation = _evaluation(cfg, spec, champion.path, challenger, plan, work)
        decision = decide(evaluation, plan, cfg.continual.gate)
        write_json(challenger / "continual_round.json", {**plan, "evaluation": evaluation, "gate": decision})
        _write_state(cfg, spec, champion.path, challenger, plan)
        registered = versions.add(challenger, _lineage(cfg, plan, champion.tag, evaluation, decision, challenger))
    decision = registered.lineage["gate"]
    if not any(r.get("round") == plan["round"] for r in versions.rounds()):
        versions.record_round(_round_record(plan, registered.tag, decision))
    promote = decision["decision"] == "promote"
    current = versions.champion()
    if promote and current is not None and current.tag == plan["champion"]:
        versions.promote(registered.tag, f"round {plan['round']}: gate passed")
    shutil.rmtree(work, ignore_errors=True)
    _print_decision(registered.tag, decision)
    return RoundOutcome("promoted" if promote else "rejected", registered.tag, tuple(decision["reasons"]))


def _evaluation(
    cfg: Config, spec: ContinualSpec, champion: Path, challenger: Path, plan: dict[str, Any], work: Path
) -> dict[str, Any]:
    """Champion and challenger on the same regression set and round-test rows; kept for a rerun."""
    done = work / "evaluation.json"
    if done.is_file():
        return json.loads(done.read_text(encoding="utf-8"))
    from tuneforge.continual.scoring import score_both
    from tuneforge.continual.training import round_tokenizer

    evaluation = score_both(spec, cfg, champion, challenger, plan, round_tokenizer(champion))
    write_json(done, evaluation)
    return evaluation


def _write_state(cfg: Config, spec: ContinualSpec, champion: Path, challenger: Path, plan: dict[str, Any]) -> None:
    """The challenger's continual state: the champion's, with this round's rows added."""
    from tuneforge.continual.state import read_examples
    from tuneforge.continual.training import round_tokenizer

    tokenizer = round_tokenizer(champion)
    files = plan["files"]

    def read(name: str) -> list[Any]:
        return read_examples(Path(files[name]), spec, cfg, tokenizer)[0]

    state = ContinualState(
        history=read("history_after"),
        regression=read("regression_after"),
        replay=read("replay_after"),
        labels=plan["labels"],
    )
    write_state(challenger, state, spec, {"round": plan["round"], "parent": plan["champion"]})


def _lineage(
    cfg: Config, plan: dict[str, Any], parent: str, evaluation: dict[str, Any], decision: dict[str, Any], run: Path
) -> dict[str, Any]:
    return {
        "parent": parent,
        "source": f"round-{plan['round']}",
        "round": plan["round"],
        "strategy": plan["strategy"],
        "config": _without_secrets(cfg.model_dump(mode="json", by_alias=True)),
        "data": {name: sha256(Path(path)) for name, path in plan["files"].items() if Path(path).is_file()},
        "feedback": plan["feedback"],
        "metrics": _headline(evaluation["challenger"]),  # what `tuneforge models list` shows
        "evaluation": evaluation,  # both models, per set and class
        "gate": decision,
        "train_seconds": json.loads((run / "metrics.json").read_text(encoding="utf-8"))["train"]["train_seconds"],
    }


def _without_secrets(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the lineage keeps it: a database password in continual.feedback is not written down."""
    continual = {**config["continual"], "feedback": shown_source(config["continual"]["feedback"])}
    return {**config, "continual": continual}


def _headline(scores: dict[str, Any]) -> dict[str, float]:
    return {f"{name}_{result['metric']}": round(result["main"], 4) for name, result in scores.items()}


def _round_record(plan: dict[str, Any], tag: str, decision: dict[str, Any]) -> dict[str, Any]:
    return {
        "round": plan["round"],
        "champion": plan["champion"],
        "challenger": tag,
        "decision": decision["decision"],
        "reasons": decision["reasons"],
        "through": plan["feedback"]["through"],
        "rows": plan["rows"],
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _print_decision(tag: str, decision: dict[str, Any]) -> None:
    console = get_console()
    if decision["decision"] == "promote":
        console.print(f"[bold green]{tag} promoted[/]: " + "; ".join(decision["reasons"]))
    else:
        console.print(f"[bold red]{tag} rejected[/], kept for inspection, not served:")
        for reason in decision["reasons"]:
            console.print(f"  - {reason}", markup=False, highlight=False)
