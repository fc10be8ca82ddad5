"""A given NER validation or test file keeps every sentence, duplicates included; only train is deduplicated."""

from pathlib import Path

from tuneforge.config import DataConfig
from tuneforge.tasks.token_classification.prepare import prepare_tagged_data

SENTENCE = "Anna B-PER\nflew O\nto O\nBerlin B-CITY\n"


def _conll(path: Path, sentences: list[str]) -> Path:
    path.write_text("\n".join(sentences), encoding="utf-8")
    return path


def test_a_given_test_file_keeps_its_duplicate_sentences(tmp_path: Path) -> None:
    other = "Li B-PER\nlives O\nin O\nParis B-CITY\n"
    train = _conll(tmp_path / "train.conll", [SENTENCE, SENTENCE, other])
    test = _conll(tmp_path / "test.conll", [other, other, SENTENCE])
    data = prepare_tagged_data(DataConfig(train=train, test=test, split={"validation": 0}), max_length=32)
    assert len(data.test) == 3  # both copies of the repeated sentence stay
    assert len(data.train) == 2  # train's own duplicate goes
