"""Read chat data into Conversations: OpenAI chat JSONL, Alpaca JSONL, or CSV/TSV question and answer columns.

Every bad row becomes a RowError naming file:line and the field (`messages[2].role`, `output`, ...), so that all
problems of a file are reported at once, as the rest of the data layer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.config.sft import SftConfig
from tuneforge.data.read import json_type, read_table
from tuneforge.data.rows import Row, RowError, Table

__all__ = ["ROLES", "Conversation", "read_conversations"]

ROLES = ("system", "user", "assistant")
Message = dict[str, str]


@dataclass(frozen=True)
class Conversation:
    """One chat, traceable to the line it came from; it ends with the assistant's answer."""

    messages: tuple[Message, ...]
    source: str
    line: int

    @property
    def prompt(self) -> list[Message]:
        """The turns before the last answer: what the model is asked."""
        return list(self.messages[:-1])

    @property
    def reference(self) -> str:
        return self.messages[-1]["content"]

    @property
    def question(self) -> str:
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")


def read_conversations(
    path: Path, fmt: str, encoding: str, sft: SftConfig
) -> tuple[Table, list[Conversation], list[RowError]]:
    """The file's table, its valid conversations, and one RowError per problem of the others."""
    table = read_table(path, fmt, encoding)
    if table.format in ("csv", "tsv", "parquet"):
        table.require({"sft.question_column": sft.question_column, "sft.answer_column": sft.answer_column})
    conversations: list[Conversation] = []
    errors: list[RowError] = []
    for row in table.rows:
        messages, problems = _messages(row, sft)
        if problems:
            errors += [
                RowError(table.source, row.line, field, problem, row.raw, kind) for field, problem, kind in problems
            ]
            continue
        if sft.system_prompt and messages[0]["role"] != "system":
            messages = [{"role": "system", "content": sft.system_prompt}, *messages]
        conversations.append(Conversation(tuple(messages), table.source, row.line))
    return table, conversations, errors


Problem = tuple[str, str, str]  # field, what is wrong, kind


def _messages(row: Row, sft: SftConfig) -> tuple[list[Message], list[Problem]]:
    if row.values is None:
        return [], [("row", row.error or "unparsable row", "unparsable row")]
    values = row.values
    if "messages" in values:
        return _chat(values["messages"])
    if "instruction" in values or "output" in values:
        return _pair(values, ("instruction", "output"), extra="input")
    if sft.question_column in values or sft.answer_column in values:
        return _pair(values, (sft.question_column, sft.answer_column))
    found = ", ".join(repr(k) for k in values) or "none"
    expected = f"'messages' (chat), 'instruction'/'output' (Alpaca) or '{sft.question_column}'/'{sft.answer_column}'"
    return [], [("row", f"no conversation found: expected {expected}; keys found: {found}", "unknown row form")]


def _text(value: Any, field: str, problems: list[Problem]) -> str:
    if value is None or (isinstance(value, float) and value != value):  # missing, or NaN from Parquet
        problems.append((field, "missing", "empty turn"))
        return ""
    if not isinstance(value, str):
        problems.append((field, f"expected a string, found {json_type(value)}", "invalid turn"))
        return ""
    if not value.strip():
        problems.append((field, "empty turn", "empty turn"))
    # Windows line ends would be learned as part of the answers and echoed back by the model
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _pair(
    values: dict[str, Any], fields: tuple[str, str], extra: str | None = None
) -> tuple[list[Message], list[Problem]]:
    problems: list[Problem] = []
    question, answer = (_text(values.get(f), f, problems) for f in fields)
    if extra and (more := values.get(extra)):
        question = f"{question}\n\n{_text(more, extra, problems)}"
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}], problems


def _chat(raw: Any) -> tuple[list[Message], list[Problem]]:
    if not isinstance(raw, list) or not raw:
        found = "an empty array" if raw == [] else json_type(raw)
        return [], [("messages", f"expected a non-empty array of turns, found {found}", "invalid conversation")]
    problems: list[Problem] = []
    messages: list[Message] = []
    for i, turn in enumerate(raw):
        field = f"messages[{i}]"
        if not isinstance(turn, dict):
            problems.append(
                (field, f"expected an object with role and content, found {json_type(turn)}", "invalid turn")
            )
            continue
        role = turn.get("role")
        if role not in ROLES:
            problems.append(
                (f"{field}.role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}", "unknown role")
            )
        elif role == "system" and i > 0:
            problems.append((f"{field}.role", "a system turn may only come first", "misplaced system turn"))
        messages.append({"role": str(role), "content": _text(turn.get("content"), f"{field}.content", problems)})
    if messages and messages[-1]["role"] != "assistant" and not problems:
        last = f"messages[{len(raw) - 1}].role"
        problems.append(
            (
                last,
                f"the conversation ends with {messages[-1]['role']!r}; it must end with an assistant answer",
                "no final answer",
            )
        )
    if not any(m["role"] == "user" for m in messages) and not problems:
        problems.append(("messages", "no user turn", "no user turn"))
    return messages, problems
