"""`ChampionWatcher`: follows the champion pointers of a model registry and hot-swaps the served models.

A thread polls each served name's champion.json (a stat per second; the file is read only when the stat changes).
When the champion differs from the version served, the new one is loaded in that thread, off the request path,
and swapped in: requests already holding the old model finish on it. A version that fails to load is logged and
the old model stays until the pointer changes again.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from tuneforge.errors import RunError
from tuneforge.registry import ModelVersions, Version
from tuneforge.serve.registry import ModelRegistry, load_model

__all__ = ["ChampionWatcher", "champions"]

log = logging.getLogger("tuneforge.serve")

_Stat = tuple[int, int, int]  # inode, size, mtime: os.replace gives champion.json a new inode on every write


def champions(root: Path, names: list[str]) -> dict[str, Version]:
    """The champion of each name; RunError (naming the registry) for a name with no version or no champion."""
    found = {}
    for name in names:
        champion = ModelVersions(root, name).champion()
        if champion is None:
            raise RunError(f"model '{name}' has no champion in registry {root}; tuneforge models add {name} RUN_DIR")
        found[name] = champion
    return found


class ChampionWatcher:
    """`start()` a daemon thread that runs `check()` every `interval_s` until `stop()`."""

    def __init__(self, models: ModelRegistry, root: Path, names: list[str], interval_s: float = 1.0) -> None:
        self._models = models
        self._versions = {name: ModelVersions(root, name) for name in names}
        self._interval_s = interval_s
        self._seen: dict[str, _Stat] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="champion-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.check()

    def check(self) -> None:
        """One poll of every name; a pointer unchanged since the last poll costs one stat."""
        for name, versions in self._versions.items():
            try:
                stat = versions.pointer_path.stat()
            except OSError:  # removed by hand: keep serving what is loaded
                continue
            key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            served = self._models.get(name)
            if served is None or self._seen.get(name) == key:  # not loaded yet, or nothing new
                continue
            self._seen[name] = key
            self._follow(name, versions, served.version)

    def _follow(self, name: str, versions: ModelVersions, serving: str | None) -> None:
        try:
            champion = versions.champion()
            if champion is None or champion.tag == serving:
                return
            started = time.perf_counter()
            self._models.swap(load_model(name, champion.path, version=champion.tag))
        except Exception as exc:  # a broken version must not take the server down: the old model stays
            kind = type(exc).__name__
            log.error("model %s: new champion not loaded, still serving %s: %s: %s", name, serving, kind, exc)
            return
        seconds = time.perf_counter() - started
        log.info("model %s: champion %s loaded in %.1f s (was %s)", name, champion.tag, seconds, serving)
