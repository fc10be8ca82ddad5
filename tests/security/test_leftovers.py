"""Hardening leftovers: each test names the report it closes."""

import json
from pathlib import Path

from tuneforge.config.sft import SftConfig
from tuneforge.tasks.causal_lm_sft.chats import read_conversations


def test_crlf_in_chat_answers_reads_as_lf(tmp_path: Path) -> None:
    """Report: CRLF kept in chat answers and learned by the model."""
    path = tmp_path / "chats.jsonl"
    chat = {"messages": [{"role": "user", "content": "a\r\nb"}, {"role": "assistant", "content": "one\r\ntwo\rthree"}]}
    path.write_text(json.dumps(chat) + "\n", encoding="utf-8")
    _, conversations, errors = read_conversations(path, "auto", "auto", SftConfig())
    assert errors == []
    assert conversations[0].reference == "one\ntwo\nthree"
    assert conversations[0].question == "a\nb"
