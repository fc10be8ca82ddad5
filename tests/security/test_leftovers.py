"""Hardening leftovers: each test names the report it closes."""

import io
import json
from pathlib import Path

import numpy as np
from rich.console import Console

from tuneforge.config import DataConfig
from tuneforge.config.sft import SftConfig
from tuneforge.evaluate.plots import plot_confusion
from tuneforge.tasks.causal_lm_sft.chats import read_conversations
from tuneforge.tasks.token_classification.prepare import prepare_tagged_data


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


def test_ner_data_report_counts_windows_not_truncation(tmp_path: Path) -> None:
    """Report: `data check` reports 'truncated 0.2%' for NER, which never truncates (windows)."""
    short, long = "Anna B-PER\nflew O\n", "Li B-PER\n" + "went O\n" * 9
    train = tmp_path / "train.conll"
    train.write_text("\n".join([short, long, short.replace("Anna", "Bo")]), encoding="utf-8")
    cfg = DataConfig(train=train, split={"validation": 0, "test": 0})
    report = prepare_tagged_data(cfg, max_length=5, count_tokens=lambda sentences: [len(s) for s in sentences]).report
    assert report.splits["train"].windowed == 1 and report.splits["train"].truncated is None
    console = Console(file=io.StringIO(), width=200)
    console.print(report.render())
    for text in (report.to_markdown(), console.file.getvalue()):
        assert "split into windows" in text and "truncated" not in text
    train_row = next(line for line in report.to_markdown().splitlines() if line.startswith("| train | 3 |"))
    assert train_row.endswith("| 1 |")  # one sentence longer than max_length
