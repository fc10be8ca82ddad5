"""The run directory: written under `<output_dir>.partial` and swapped into place only when a run finishes,
so a crash never damages the previous finished run. Everything `evaluate`, `predict` and `serve` read is here.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tuneforge.errors import RunError

if TYPE_CHECKING:
    from tuneforge.config import Config

__all__ = [
    "finalize",
    "read_json",
    "read_manifest",
    "run_config",
    "staging_dir",
    "write_evaluation",
    "write_inputs",
    "write_json",
    "write_text",
]


def staging_dir(output_dir: Path, *, resume: bool) -> Path:
    """Folder a run writes into until it finishes; a fresh run starts it empty, a resumed one reuses it."""
    staging = output_dir.with_name(output_dir.name + ".partial")
    if resume and not staging.exists():
        if (output_dir / "manifest.json").is_file():
            raise RunError(f"nothing to resume: {output_dir} holds a finished run; train without --resume to redo it")
        raise RunError(f"nothing to resume: no interrupted run at {staging}")
    if not resume:
        shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def finalize(staging: Path, output_dir: Path) -> None:
    """Swap the finished run into `output_dir`; the previous run there is removed only after the swap."""
    old = output_dir.with_name(output_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if output_dir.exists():
        os.replace(output_dir, old)
    os.replace(staging, output_dir)
    shutil.rmtree(old, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise RunError(f"{path} is missing; is {path.parent} a finished tuneforge run directory?")
    return json.loads(path.read_text(encoding="utf-8"))


def read_manifest(run_dir: Path, task: str | None = None) -> dict[str, Any]:
    """The run's manifest.json; RunError when it is missing or, given `task`, the run is of another task."""
    manifest: dict[str, Any] = read_json(run_dir / "manifest.json")
    if task is not None and manifest.get("task") != task:
        raise RunError(f"{run_dir} holds a '{manifest.get('task')}' run, not a {task} run")
    return manifest


def run_config(run_dir: Path) -> Config:
    """The resolved config a run was trained with (its data files need not exist any more)."""
    from tuneforge.config import Config

    if not (run_dir / "config.yaml").is_file():
        raise RunError(f"{run_dir / 'config.yaml'} is missing; is {run_dir} a finished tuneforge run directory?")
    return Config.model_validate(yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")))


def write_inputs(run_dir: Path, cfg: Config, report: dict[str, Any], report_md: str, rejected: list[Any]) -> None:
    """What a run starts from, written before any training: the resolved config.yaml (which `run_config` reads
    back), the data report as JSON and Markdown, and rejected_rows.csv when rows were dropped."""
    from tuneforge.data import write_rejected

    dumped = yaml.safe_dump(cfg.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
    write_text(run_dir / "config.yaml", dumped)
    write_json(run_dir / "data_report.json", report)
    write_text(run_dir / "data_report.md", report_md)
    if rejected:
        write_rejected(run_dir / "rejected_rows.csv", rejected)


def write_evaluation(run_dir: Path | None, source: Path, metrics: dict[str, Any], report_md: str) -> Path:
    """`tuneforge evaluate`'s output: RUN/evaluations/<file stem>/ metrics.json and report.md; returns the folder."""
    if run_dir is None:
        raise RunError("evaluate needs a model loaded from its run directory (tuneforge.load(run_dir))")
    out = run_dir / "evaluations" / source.stem
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "metrics.json", metrics)
    write_text(out / "report.md", report_md)
    return out
