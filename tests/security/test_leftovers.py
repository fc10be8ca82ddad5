"""Hardening leftovers: each test names the report it closes."""

import json
from pathlib import Path

import numpy as np

from tuneforge.config.sft import SftConfig
from tuneforge.evaluate.plots import plot_confusion
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


def test_a_150_label_confusion_png_stays_small(tmp_path: Path) -> None:
    """Report: 150×150 confusion PNGs of 4 MB."""
    n = 150
    confusion = np.random.default_rng(0).integers(0, 50, (n, n))
    np.fill_diagonal(confusion, 500)
    path = tmp_path / "confusion.png"
    plot_confusion(confusion, [f"label_{i}" for i in range(n)], path, "test confusion")
    assert path.stat().st_size < 1_000_000
