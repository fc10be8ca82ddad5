"""The run directory: written under `<output_dir>.partial` and swapped into place only when a run finishes,
so a crash never damages the previous finished run. Everything `evaluate`, `predict` and `serve` read is here.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from tuneforge.errors import RunError, TuneforgeError

if TYPE_CHECKING:
    from tuneforge.config import Config

__all__ = [
    "check_output_dir",
    "finalize",
    "finish_run",
    "read_json",
    "read_manifest",
    "run_config",
    "staging_dir",
    "write_evaluation",
    "write_inputs",
    "write_json",
    "write_text",
]


# What a folder that tuneforge replaces as a whole may already hold: a previous run (its manifest.json) or, for
# `export --merge --output`, a previous plain Hugging Face model dir (its config.json). Anything else is someone's
# files (a typo such as `output_dir: examples/support` would delete the training data) and is refused, not removed.
_KINDS = {"run": ("a tuneforge run", "manifest.json"), "model": ("a Hugging Face model dir", "config.json")}
# An interrupted run's staging folder may hold only what write_inputs writes first.
_STAGED_FIRST = "config.yaml"


def check_output_dir(output_dir: Path, *, kind: Literal["run", "model"] = "run") -> None:
    """RunError unless `output_dir` may be replaced by a finished run (or, `kind="model"`, a merged model dir).

    It may be missing, empty or hold a previous one (manifest.json; model: config.json), and may not be the current
    folder, a folder above it or the filesystem root.

    >>> check_output_dir(Path("runs/demo"))  # doctest: +SKIP
    """
    where, here = output_dir.resolve(), Path.cwd().resolve()
    if where == here or where in here.parents:
        raise RunError(
            f"{output_dir} is the current folder or a folder above it; a finished run replaces the whole folder, "
            "so name a folder of its own, e.g. output_dir: runs/<name>"
        )
    what, marker = _KINDS[kind]
    try:
        _refuse_foreign(output_dir, (marker,), what)
    except OSError as exc:  # e.g. a name over 255 bytes: exists() raises instead of answering False
        raise RunError(f"output_dir {output_dir}: cannot use this path ({exc.strerror or exc})") from None


def _refuse_foreign(folder: Path, markers: tuple[str, ...], what: str) -> None:
    if not folder.exists():
        return
    if not folder.is_dir():
        raise RunError(f"{folder} is a file, not a folder for {what}; choose another path or move the file away")
    if any((folder / marker).is_file() for marker in markers):
        return
    names = sorted(entry.name for entry in folder.iterdir())
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise RunError(
            f"{folder} is not empty and holds no {what} (no {markers[0]}; found {shown}); tuneforge replaces the "
            "whole folder, so it refuses: choose a new or empty folder, or move these files away"
        )


def _beside(folder: Path, suffix: str) -> Path:
    return folder.with_name(f"{folder.name}.{suffix}")


def staging_dir(output_dir: Path, *, resume: bool, kind: Literal["run", "model"] = "run") -> Path:
    """Folder a run writes into until it finishes; a fresh run starts it empty, a resumed one reuses it.

    Checks `output_dir` first (`check_output_dir`), so a folder that is not a previous run is refused before
    anything is written."""
    check_output_dir(output_dir, kind=kind)
    staging = _beside(output_dir, "partial")
    if resume and not staging.exists():
        if (output_dir / "manifest.json").is_file():
            raise RunError(f"nothing to resume: {output_dir} holds a finished run; train without --resume to redo it")
        raise RunError(f"nothing to resume: no interrupted run at {staging}")
    if not resume:
        what, marker = _KINDS[kind]
        _refuse_foreign(staging, (marker, _STAGED_FIRST), what)
        shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a name too long, a parent that is a file, a read-only or virtual filesystem
        raise RunError(f"output_dir {output_dir}: cannot create {staging} ({exc.strerror or exc})") from None
    return staging


def finalize(staging: Path, output_dir: Path, *, kind: Literal["run", "model"] = "run") -> None:
    """Swap the finished run into `output_dir`; the previous run there is removed only after the swap.

    `output_dir` is checked again (`check_output_dir`): what stands there is removed, so it must be a previous run."""
    check_output_dir(output_dir, kind=kind)
    what, marker = _KINDS[kind]
    old = _beside(output_dir, "old")
    _refuse_foreign(old, (marker,), what)
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
    """Strict JSON: a NaN or infinite float (a diverged loss, a metric of an empty class) is written as null.

    Python's json writes them as bare NaN / Infinity, which is not JSON (RFC 8259): jq, JavaScript's JSON.parse
    and most other readers refuse the whole file. allow_nan=False makes sure none is left.
    """
    write_text(path, json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise RunError(f"{path} is missing; is {path.parent} a finished tuneforge run directory?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RunError(f"{path} is damaged ({str(exc)[:120]}); copy the run again or retrain it") from None


def read_manifest(run_dir: Path, task: str | None = None) -> dict[str, Any]:
    """The run's manifest.json; RunError when it is missing or damaged or, given `task`, the run is of another
    task."""
    manifest = read_json(run_dir / "manifest.json")
    if not isinstance(manifest, dict):
        raise RunError(f"{run_dir / 'manifest.json'} is damaged (not a JSON object); copy the run again or retrain it")
    if task is not None and manifest.get("task") != task:
        raise RunError(f"{run_dir} holds a '{manifest.get('task')}' run, not a {task} run")
    return manifest


def run_config(run_dir: Path) -> Config:
    """The resolved config a run was trained with (its data files need not exist any more)."""
    from pydantic import ValidationError

    from tuneforge.config import Config
    from tuneforge.config.load import parse_yaml

    path = run_dir / "config.yaml"
    if not path.is_file():
        raise RunError(f"{path} is missing; is {run_dir} a finished tuneforge run directory?")
    # The config parser, not yaml.safe_load: it refuses alias bombs, and its errors are messages, not tracebacks.
    try:
        return Config.model_validate(parse_yaml(path.read_text(encoding="utf-8"), str(path)))
    except (TuneforgeError, ValidationError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0][:160]
        raise RunError(f"{path} is damaged ({first}); copy the run again or retrain it") from None


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


def finish_run(staging: Path, output_dir: Path, manifest: dict[str, Any], tracker: Any) -> Path:
    """The last steps of every pipeline: write manifest.json (what `tuneforge.load` reads), drop the checkpoints
    (only needed to resume; the kept weights are in model/ or adapter/), hand the folder to the tracker and end its
    run, then swap the staging folder into `output_dir`."""
    write_json(staging / "manifest.json", manifest)
    shutil.rmtree(staging / "checkpoints", ignore_errors=True)
    tracker.log_artifacts(staging)
    tracker.end()
    finalize(staging, output_dir)
    return output_dir
