"""Fixtures shared by the data tests: inline files written to tmp_path, and prepare_data with small limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tuneforge.config import DataConfig
from tuneforge.data import PreparedData, prepare_data


def _count_words(texts: list[str]) -> list[int]:
    return [len(text.split()) for text in texts]


@pytest.fixture
def count_words() -> Callable[[list[str]], list[int]]:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return _count_words


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, content, encoding="utf-8") -> path in tmp_path; bytes are written as they are."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return _write


@pytest.fixture
def prepare() -> Callable[..., PreparedData]:
    """prepare(train, max_length=16, max_tokens=128, **DataConfig fields), counting whitespace tokens."""

    def _prepare(train: Path, max_length: int = 16, max_tokens: int = 128, **fields: Any) -> PreparedData:
        cfg = DataConfig(train=train, **fields)
        return prepare_data(cfg, max_length=max_length, max_tokens=max_tokens, count_tokens=_count_words)

    return _prepare
