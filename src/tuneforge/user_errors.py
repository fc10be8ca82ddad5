"""The one handler of the CLI's commands (tuneforge.cli and the sub-apps beside their code): a user's mistake is one
message and an exit code, never a stack trace."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from tuneforge.errors import TrainingInterrupted, TuneforgeError

__all__ = ["user_errors"]

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(command: F) -> F:
    """Print TuneforgeError messages in red and exit non-zero instead of showing a stack trace."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TrainingInterrupted as exc:
            Console(stderr=True).print(f"[yellow]{exc}[/]")
            raise typer.Exit(130) from None
        except TuneforgeError as exc:
            # The message may quote the user's input: printed as text, so `[x]` in a value is not read as markup.
            Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]
