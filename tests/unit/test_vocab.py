"""Tokenizer coverage: unknown pieces are found, warned about, and added as tokens on request."""

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from tuneforge.vocab import coverage_warning, extend_vocabulary, unknown_pieces

CHINESE = ["我的退款什么时候到账", "退款还没到账", "包裹什么时候到"]


@pytest.fixture
def tokenizer(tiny_model_dir: Path):
    return AutoTokenizer.from_pretrained(tiny_model_dir)  # fresh: extend_vocabulary changes it


def test_unknown_pieces_are_the_characters_the_vocabulary_lacks(tokenizer) -> None:
    pieces, total = unknown_pieces(tokenizer, CHINESE)
    assert pieces["退"] == 2 and pieces["款"] == 2
    assert "我" not in pieces and "的" not in pieces  # two of MiniLM's 244 Chinese characters
    assert total == sum(len(text) for text in CHINESE)  # BERT splits Chinese into single characters
    assert unknown_pieces(tokenizer, ["where is my parcel"])[0] == {}


def test_warning_only_when_much_text_is_unknown(tokenizer) -> None:
    warning = coverage_warning(tokenizer, CHINESE, "minilm")
    assert warning and "'minilm'" in warning and "extend_vocab" in warning and "退" in warning
    assert coverage_warning(tokenizer, ["where is my parcel", "refund please"], "minilm") is None


def test_extend_adds_repeated_pieces_and_leaves_singletons_unknown(tokenizer) -> None:
    before = len(tokenizer)
    added = extend_vocabulary(tokenizer, CHINESE)
    assert set(added) == {"退", "款", "什", "么", "时", "候", "到", "账"}
    assert len(tokenizer) == before + len(added)
    pieces, _ = unknown_pieces(tokenizer, CHINESE)
    assert set(pieces) == {"还", "没", "包", "裹"}  # each seen once
    refund, arrival = (tokenizer(text)["input_ids"] for text in ("退款", "到账"))
    assert refund != arrival  # both were [UNK] [UNK] before
