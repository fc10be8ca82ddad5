"""The run directory: written under `<output_dir>.partial` and swapped into place only when a run finishes,
so a crash never damages the previous finished run. Everything `evaluate`, `predict` and `serve` read is here.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tuneforge.errors import RunError

__all__ = ["finalize", "read_json", "staging_dir", "write_json", "write_text"]


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
