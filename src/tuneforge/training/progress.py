"""A rich progress bar with loss and ETA; silent on processes other than the main one.

Where output is not a terminal (CI logs, nohup), a live bar draws nothing: a plain line is printed every 5% instead.
"""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["TrainProgress"]


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
        )
        self._task = self._progress.add_task("train", total=total_steps, completed=done, loss=float("nan"))
        self._log_every = max(1, total_steps // 20) if enabled and not self._progress.console.is_terminal else 0

    def __enter__(self) -> TrainProgress:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def update(self, step: int, *, loss: float) -> None:
        self._progress.update(self._task, completed=step, loss=loss)
        if self._log_every and step % self._log_every == 0:
            task = self._progress.tasks[0]
            eta = f"{task.time_remaining:.0f}s" if task.time_remaining is not None else "?"
            self._progress.console.print(f"train step {step}/{task.total} loss {loss:.4f} eta {eta}")
