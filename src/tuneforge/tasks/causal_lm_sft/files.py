"""`tuneforge generate` and `tuneforge chat`: answer a file of questions, or talk to a model in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import get_console

from tuneforge.data.read import read_table
from tuneforge.data.rows import Row
from tuneforge.errors import DataError
from tuneforge.rundir import write_text
from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel

__all__ = ["chat_loop", "generate_file", "read_questions"]


def _chat_of(row: Row, column: str) -> list[dict[str, str]] | str:
    """The chat to answer for one input row, or what is wrong with it."""
    values = row.values
    if values is None:
        return row.error or "unparsable row"
    if "messages" in values:
        messages = values["messages"]
        ok = (
            isinstance(messages, list)
            and messages
            and all(
                isinstance(m, dict)
                and m.get("role") in ("system", "user", "assistant")
                and isinstance(m.get("content"), str)
                for m in messages
            )
        )
        if not ok:
            return "field 'messages': expected an array of {role: system|user|assistant, content: string}"
        if messages[-1]["role"] != "user":
            return f"field 'messages': the last turn is {messages[-1]['role']!r}; it must be the user's question"
        return [{"role": m["role"], "content": m["content"]} for m in messages]
    for key in (column, "instruction", "prompt"):
        text = values.get(key)
        if isinstance(text, str) and text.strip():
            extra = values.get("input") if key == "instruction" else None
            return [{"role": "user", "content": f"{text}\n\n{extra}" if extra else text}]
    return f"no question: expected a non-empty '{column}' field, or 'messages' ending with a user turn"


def read_questions(path: Path, column: str = "question") -> tuple[list[dict[str, Any]], list[list[dict[str, str]]]]:
    """The rows of a JSONL/CSV/TSV file and the chat each asks; DataError lists every bad line."""
    table = read_table(path)
    rows, chats, problems = [], [], []
    for row in table.rows:
        chat = _chat_of(row, column)
        if isinstance(chat, str):
            problems.append(f"{table.source}:{row.line}: {chat}")
            continue
        rows.append(row.values or {})
        chats.append(chat)
    if problems:
        raise DataError(f"{len(problems)} bad line(s) in {table.source}", problems)
    if not chats:
        raise DataError(f"{table.source}: no questions found")
    return rows, chats


def generate_file(model: ChatModel, input: Path, output: Path, *, batch_size: int = 8, **sampling: Any) -> Path:
    """Answer every question of `input` with `model`; JSONL out: each input row plus `answer`."""
    rows, chats = read_questions(input)
    answers = model.generate_batch(chats, batch_size=batch_size, **sampling)
    lines = [
        json.dumps({**row, "answer": answer}, ensure_ascii=False) for row, answer in zip(rows, answers, strict=True)
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text(output, "\n".join(lines) + "\n")
    get_console().print(f"{len(answers)} answers written to [bold]{output}[/]")
    return output


def chat_loop(source: str | Path, *, system: str | None = None, **sampling: Any) -> None:
    """Interactive chat in the terminal, answers streamed; an empty line or Ctrl-D ends it, /reset forgets."""
    console = get_console()
    model = ChatModel.load(source)
    history: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    console.print("[dim]empty line or Ctrl-D to quit, /reset to start over[/]")
    while True:
        try:
            question = console.input("[bold cyan]you>[/] ").strip()
        except EOFError:
            break
        if not question:
            break
        if question == "/reset":
            history = history[:1] if system else []
            continue
        history.append({"role": "user", "content": question})
        console.print("[bold green]bot>[/] ", end="")
        answer = ""
        for piece in model.stream(history, **sampling):
            answer += piece
            console.print(piece, end="", markup=False, highlight=False)
        console.print()
        history.append({"role": "assistant", "content": answer.strip()})
