"""What every user-facing failure raises: one message a person can act on, never a deep stack trace."""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "RunError", "TrainingInterrupted", "TuneforgeError"]


class TuneforgeError(Exception):
    """Base of all errors shown to users; the CLI prints the message and exits non-zero.

    `problems` holds every individual problem found, so that they can be reported together.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        shown = self.problems[:50]
        more = len(self.problems) - len(shown)
        tail = f"\n  ... and {more} more" if more else ""
        return head + "\n" + "\n".join(f"  {p}" for p in shown) + tail


class ConfigError(TuneforgeError):
    """The config file or a --set override is wrong: names the file, key path and what was expected."""


class DataError(TuneforgeError):
    """Input data is unreadable or invalid: names the file, line, field and what was expected."""


class RunError(TuneforgeError):
    """A run directory is missing, incomplete or inconsistent."""


class TrainingInterrupted(TuneforgeError):
    """Ctrl-C: a checkpoint was saved; `--resume` continues from it."""
