"""Data inputs: a given test or validation file keeps every row; label lists, batch sizes and label spellings
that cannot be meant are refused or warned about."""

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import tuneforge
from tuneforge.cli import app
from tuneforge.config import DataConfig, SplitConfig, TrainConfig
from tuneforge.data import prepare_data


def _words(texts: list[str]) -> list[int]:
    return [len(text.split()) for text in texts]


def _prepare(train: Path, **fields):
    return prepare_data(DataConfig(train=train, **fields), max_length=16, max_tokens=128, count_tokens=_words)


def _write(tmp_path: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / name
    path.write_text("text,label\n" + "".join(f"{text},{label}\n" for text, label in rows), encoding="utf-8")
    return path


TRAIN = [(f"train text {i}", "ab"[i % 2]) for i in range(20)] + [("where is my parcel", "a"), ("refund me", "b")]


def test_a_given_test_file_keeps_its_duplicates_and_the_rows_it_shares_with_train(tmp_path):
    test_rows = [("Where is my parcel?", "a"), ("where is my parcel", "a"), ("refund me", "b"), ("new", "b")]
    data = _prepare(_write(tmp_path, "train.csv", TRAIN), test=_write(tmp_path, "test.csv", test_rows))
    assert [e.line for e in data.test] == [2, 3, 4, 5]  # every row, in file order
    assert data.report.leakage["train/test"] == 2
    assert data.report.dropped["leakage"] == 2  # the train copies go, the test rows stay
    assert data.report.shared_texts["train/test"] == ["Where is my parcel?", "where is my parcel", "refund me"]
    assert data.report.kept_duplicates == {"test": 1}
    warnings = "\n".join(data.report.warnings)
    assert "1 row(s) of data.test repeat an earlier text" in warnings and "all kept" in warnings
    assert "data.test" in warnings and "shares 2 texts with train" in warnings
    markdown = data.report.to_markdown()
    assert "Texts shared between splits" in markdown and "Duplicates kept in given files" in markdown


def test_given_validation_and_test_files_sharing_texts_are_both_kept_and_reported(tmp_path):
    validation = _write(tmp_path, "validation.csv", [("same text", "a"), ("only here", "b")])
    test = _write(tmp_path, "test.csv", [("Same text!", "a"), ("other", "b"), ("other", "b")])
    data = _prepare(_write(tmp_path, "train.csv", TRAIN), validation=validation, test=test)
    assert (len(data.validation), len(data.test)) == (2, 3)
    assert data.report.leakage["validation/test"] == 1
    assert data.report.shared_texts["validation/test"] == ["Same text!"]
    (warning,) = [w for w in data.report.warnings if w.startswith("validation and test share 1 texts")]
    assert "both files are kept as given" in warning and str(validation) in warning and str(test) in warning


def test_rows_split_off_train_are_still_deduplicated(tmp_path):
    rows = TRAIN + [("train text 0", "a"), ("TRAIN TEXT 1!", "b")]
    data = _prepare(_write(tmp_path, "train.csv", rows), split=SplitConfig(validation=0.2, test=0.2))
    assert data.report.dropped["exact_duplicates"] + data.report.dropped["normalised_duplicates"] == 2
    assert sum(len(s) for s in (data.train, data.validation, data.test)) == len(TRAIN)
    assert data.report.kept_duplicates == {}


@pytest.mark.parametrize(
    ("labels", "message"),
    [([], "must name at least one label"), (["a", "b", "a"], "declares 'a' more than once")],
)
def test_an_empty_or_repeated_label_list_is_one_config_error(tmp_path, labels, message):
    with pytest.raises(ValidationError) as caught:
        DataConfig(train=tmp_path / "train.csv", labels=labels)
    assert caught.value.error_count() == 1 and message in str(caught.value)


@pytest.mark.parametrize("key", ["batch_size", "eval_batch_size", "grad_accum"])
@pytest.mark.parametrize("value", [10**7, 1e30])
def test_absurd_batch_sizes_are_refused(key, value):
    with pytest.raises(ValidationError, match=key):
        TrainConfig(**{key: value})
    assert getattr(TrainConfig(**{key: 1_000_000}), key) == 1_000_000


def test_labels_that_spell_one_value_differently_are_warned_about(tmp_path):
    rows = [(f"text {i}", ["1", "1.0", "True", "0"][i % 4]) for i in range(40)]
    data = _prepare(_write(tmp_path, "train.csv", rows), split=SplitConfig(validation=0, test=0))
    assert data.labels == ["0", "1", "1.0", "True"]  # still four classes: the warning leaves the choice to the user
    (warning,) = [w for w in data.report.warnings if "written differently" in w]
    assert "'1', '1.0', 'True'" in warning and "3 classes" in warning


def test_version_prints_quickly():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"tuneforge {tuneforge.__version__}"
