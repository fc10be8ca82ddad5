"""`ModelVersions`: the numbered versions of one model name, and which one is champion.

Layout under `<root>/<name>/`: `v1/`, `v2/`, ... (finished run dirs, each with `lineage.json`), `champion.json`
(the pointer and its history), `rounds.jsonl` (retraining rounds), `.lock`, and hidden work folders.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.errors import ConfigError, RunError
from tuneforge.registry import mirror
from tuneforge.registry.files import append_line, locked, read_lines, sync_dir, write_json_atomic

__all__ = ["ModelVersions", "Version"]

log = logging.getLogger("tuneforge.registry")

_TAG = re.compile(r"v([1-9][0-9]*)")
# A model name and a staging key become folder names: no separators, no leading dot (hidden folders are ours).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_INCOMING = ".incoming-"  # a copy being built beside its version folder; left over only by a crash


@dataclass(frozen=True)
class Version:
    tag: str  # "v3"
    path: Path  # the run dir
    lineage: dict[str, Any]  # lineage.json: version, parent, created, source, config, data, metrics, gate, ...

    @property
    def number(self) -> int:
        return _number(self.tag)


def _number(tag: str) -> int:
    match = _TAG.fullmatch(tag)
    return int(match.group(1)) if match else 0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _checked_name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise ConfigError(
            f"{what} '{value}' must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


class ModelVersions:
    """One model name in one registry root.

    >>> intent = ModelVersions(Path("models"), "intent")  # doctest: +SKIP
    >>> intent.promote(intent.add(Path("runs/intent"), {}, copy=True).tag, "first version")  # doctest: +SKIP
    """

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = _checked_name(name, "model name")
        self.folder = root / name
        self.pointer_path = self.folder / "champion.json"

    def exists(self) -> bool:
        return bool(self.versions())

    def versions(self) -> list[Version]:
        """Every complete version by number; a folder without lineage.json is not one (nothing is renamed
        into place before its lineage.json is written, so only a hand-made folder lacks it)."""
        if not self.folder.is_dir():
            return []
        found = [
            Version(entry.name, entry, json.loads((entry / "lineage.json").read_text(encoding="utf-8")))
            for entry in self.folder.iterdir()
            if _TAG.fullmatch(entry.name) and (entry / "lineage.json").is_file()
        ]
        return sorted(found, key=lambda version: version.number)

    def version(self, tag: str) -> Version:
        for version in self.versions():
            if version.tag == tag:
                return version
        known = ", ".join(v.tag for v in self.versions()) or "none"
        raise RunError(f"model '{self.name}' in {self.root} has no version '{tag}'; its versions: {known}")

    def champion(self) -> Version | None:
        pointer = self._pointer()
        return self.version(pointer["version"]) if pointer else None

    def staging(self, key: str) -> Path:
        """A folder on the registry's filesystem for a version being built, so that `add` is a rename."""
        folder = self.folder / ".staging" / _checked_name(key, "staging key")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def add(self, run_dir: Path, lineage: dict[str, Any], *, copy: bool = False) -> Version:
        """Register the finished run `run_dir` as the next version; `copy=False` moves it in. Does not promote."""
        if not (run_dir / "manifest.json").is_file():
            raise RunError(f"{run_dir} is not a finished tuneforge run (no manifest.json); train it first")
        self.folder.mkdir(parents=True, exist_ok=True)
        with locked(self.folder / ".lock"):
            self._drop_leftovers()
            tag = f"v{self._last_number() + 1}"
            pointer = self._pointer()
            full = {"parent": pointer["version"] if pointer else None, "created": _now(), **lineage, "version": tag}
            source = self.folder / f"{_INCOMING}{tag}" if copy else run_dir
            if copy:
                shutil.copytree(run_dir, source, symlinks=True)
            write_json_atomic(source / "lineage.json", full)
            try:
                os.replace(source, self.folder / tag)
            except OSError as exc:  # EXDEV: another filesystem; staging() gives a folder on this one
                raise RunError(
                    f"cannot move {run_dir} into {self.folder / tag} ({exc.strerror}); build it in "
                    "ModelVersions.staging(...) or add it with copy=True"
                ) from None
            sync_dir(self.folder)
        version = Version(tag, self.folder / tag, full)
        mirror.register(self.name, version)
        return version

    def promote(self, tag: str, reason: str) -> Version:
        """Point champion.json at `tag` (appended to its history); a reader sees the old or the new pointer."""
        with locked(self.folder / ".lock"):
            version = self.version(tag)
            pointer = self._pointer()
            history = pointer["history"] if pointer else []
            if pointer and pointer["version"] == tag:
                return version
            self._write_pointer([*history, tag], reason)
        mirror.set_champion(self.name, version)
        return version

    def rollback(self, reason: str = "rollback") -> Version:
        """Back to the champion before the current one; the current one leaves the history."""
        with locked(self.folder / ".lock"):
            pointer = self._pointer()
            history = pointer["history"] if pointer else []
            if len(history) < 2:
                raise RunError(
                    f"model '{self.name}' has no previous champion to roll back to "
                    f"(champion history: {', '.join(history) or 'empty'})"
                )
            version = self.version(history[-2])
            self._write_pointer(history[:-1], reason)
        mirror.set_champion(self.name, version)
        return version

    def record_round(self, record: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        append_line(self.folder / "rounds.jsonl", record)

    def rounds(self) -> list[dict[str, Any]]:
        return read_lines(self.folder / "rounds.jsonl")

    def _pointer(self) -> dict[str, Any] | None:
        if not self.pointer_path.is_file():
            return None
        try:
            pointer: dict[str, Any] = json.loads(self.pointer_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:  # never written by us (atomic writes): someone edited it
            raise RunError(f"{self.pointer_path} is not valid JSON ({exc}); restore it or promote a version") from None
        return pointer

    def _write_pointer(self, history: list[str], reason: str) -> None:
        pointer = {"version": history[-1], "history": history, "changed": _now(), "reason": reason}
        write_json_atomic(self.pointer_path, pointer)

    def _last_number(self) -> int:
        """The highest tag ever taken: folders (complete or not) and the champion history, so that a version
        removed by hand does not give its tag to another model."""
        pointer = self._pointer()
        taken = [entry.name for entry in self.folder.iterdir()] + (pointer["history"] if pointer else [])
        return max((_number(tag) for tag in taken), default=0)

    def _drop_leftovers(self) -> None:
        """Copies a killed `add` left behind; called under the lock, so none of them is still being written."""
        for entry in self.folder.iterdir():
            if entry.name.startswith(_INCOMING):
                log.warning("removing %s, left over by an interrupted add", entry)
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.startswith(".champion.json.") and entry.name.endswith(".tmp"):
                entry.unlink(missing_ok=True)
