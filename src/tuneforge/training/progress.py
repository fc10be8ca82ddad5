"""Rich progress bars with ETA: the loop's (`TrainProgress`) and one for any other long phase (`progress`).

Where output is not a terminal (CI logs, nohup), a live bar draws nothing: plain lines are printed instead (the
loop's every 5% of its steps, a phase's at its start, every 10% and its end). Processes other than the main one
(RANK > 0 under `accelerate launch`) print nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TypeVar

from rich import get_console
from rich.errors import LiveError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["TrainProgress", "progress"]

T = TypeVar("T")

# rich estimates speed from the updates of its last 30 s by default: a step slower than that (chat SFT on a CPU)
# leaves one sample in the window and the ETA unknown ("eta ?") for the whole run. An hour's window keeps them.
_SPEED_WINDOW_S = 3600.0


def _is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def _eta(started: float, done: int, total: int) -> str:
    if done <= 0:
        return "?"
    return f"{(time.perf_counter() - started) / done * (total - done):.0f}s"


class TrainProgress:
    def __init__(self, total_steps: int, done: int, *, enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            disable=not enabled,
            transient=False,
            speed_estimate_period=_SPEED_WINDOW_S,
        )
        self._task = self._progress.add_task("train", total=total_steps, completed=done, loss=float("nan"))
        self._log_every = max(1, total_steps // 20) if enabled and not self._progress.console.is_terminal else 0
        self._total, self._first_step, self._started = total_steps, done, time.perf_counter()

    def __enter__(self) -> TrainProgress:
        self._progress.start()
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def update(self, step: int, *, loss: float) -> None:
        self._progress.update(self._task, completed=step, loss=loss)
        if self._log_every and step % self._log_every == 0:
            # Measured over this process's own steps (a resumed run's earlier steps took no time here).
            eta = _eta(self._started, step - self._first_step, self._total - self._first_step)
            self._progress.console.print(f"train step {step}/{self._total} loss {loss:.4f} eta {eta}")


def progress(items: Iterable[T], total: int, description: str) -> Iterator[T]:
    """Yield `items` while a bar shows how many of `total` are done and the time left.

    >>> squares = [x * x for x in progress(range(3), 3, "squaring")]  # doctest: +SKIP
    """
    if not _is_main_process():
        yield from items
        return
    console = get_console()
    if not console.is_terminal:
        yield from _logged(items, total, description)
        return
    bar = Progress(
        TextColumn(f"[bold]{description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        speed_estimate_period=_SPEED_WINDOW_S,
    )
    try:
        bar.start()
    except LiveError:  # another bar is live (a phase inside the training loop): that one shows the progress
        yield from items
        return
    try:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
    finally:
        bar.stop()


def _logged(items: Iterable[T], total: int, description: str) -> Iterator[T]:
    console = get_console()
    console.print(f"{description}: 0/{total}…", markup=False, highlight=False)
    started, every, done = time.perf_counter(), max(1, total // 10), 0
    for item in items:
        yield item
        done += 1
        if done % every == 0 and done < total:
            eta = _eta(started, done, total)
            console.print(f"{description}: {done}/{total} eta {eta}", markup=False, highlight=False)
    console.print(
        f"{description}: {done}/{total} done in {time.perf_counter() - started:.0f}s", markup=False, highlight=False
    )
