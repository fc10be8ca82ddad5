"""End to end on bench/make_dirty_csv.py output: exactly the bad rows are found, at exactly their lines."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from tuneforge.config import DataConfig
from tuneforge.data import prepare_data
from tuneforge.errors import DataError

_SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "make_dirty_csv.py"


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("make_dirty_csv", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("bench") / "dirty.csv"
    module.main([str(path), "--rows", "2000", "--bad", "200", "--seed", "3"])
    return path, json.loads(Path(f"{path}.expected.json").read_text(encoding="utf-8"))


def test_fail_lists_exactly_the_bad_lines(dirty):
    path, expected = dirty
    with pytest.raises(DataError) as caught:
        prepare_data(DataConfig(train=path, labels=expected["labels"]), max_length=64, max_tokens=512)
    assert str(caught.value).startswith("200 bad rows in ")
    lines = {int(re.match(rf"{re.escape(str(path))}:(\d+): ", p).group(1)) for p in caught.value.problems}
    assert lines == set(expected["bad_lines"])


def test_skip_keeps_exactly_the_good_rows(dirty):
    path, expected = dirty
    cfg = DataConfig(train=path, labels=expected["labels"], on_error="skip")
    data = prepare_data(cfg, max_length=64, max_tokens=512)
    assert len(data.train) + len(data.validation) + len(data.test) == expected["good"] == 1800
    assert {e.line for e in data.rejected} == set(expected["bad_lines"])
    assert data.report.dropped == {
        "rejected": 200,
        "exact_duplicates": 0,
        "normalised_duplicates": 0,
        "conflicting_labels": 0,
        "leakage": 0,
    }
    kept = {e.line for split in (data.train, data.validation, data.test) for e in split}
    assert not kept & set(expected["bad_lines"])
