"""Row validation through prepare_data: each error kind at its exact line, fail vs skip, the rejected file."""

from __future__ import annotations

import csv

import pytest

from tuneforge.config import DataConfig, SplitConfig
from tuneforge.data import prepare_data, write_rejected
from tuneforge.errors import DataError

LABELS = ["refund", "delivery", "account"]
NO_SPLIT = SplitConfig(validation=0, test=0)
# One row per error kind; the comment is the line each record starts on.
DIRTY = [
    "text,label",  # 1
    '"Where is my parcel?",delivery',  # 2 ok
    ",refund",  # 3 empty text
    '"  <br>  ",refund',  # 4 empty after normalisation
    "I want my money back,",  # 5 empty label
    "I want my money back now,refnd",  # 6 unknown label
    '"multi',  # 7 ok, a valid multi-line record
    'line text",account',  # 8
    "too,many,fields",  # 9 unparsable
    "one two three four five six seven eight nine ten eleven,refund",  # 10 too many tokens
    ",",  # 11 empty text and empty label: one row, two problems
    '"bad',  # 12 empty label on a multi-line record
    'multi",',  # 13
    "我要退款，谢谢,refund",  # 14 ok
]


def expected_problems(src: str) -> list[str]:
    return [
        f"{src}:3: field 'text': empty text",
        f"{src}:4: field 'text': empty text",
        f"{src}:5: field 'label': empty label",
        f"{src}:6: field 'label': label 'refnd' is not in the declared labels: refund, delivery, account "
        "(did you mean 'refund'?)",
        f"{src}:9: unparsable row: expected 2 fields, found 3",
        f"{src}:10: field 'text': text has 11 tokens; max_tokens is 10 (2 x max_length)",
        f"{src}:11: field 'text': empty text",
        f"{src}:11: field 'label': empty label",
        f"{src}:12: field 'label': empty label",
    ]


def _prepare(path, count_words, on_error):
    cfg = DataConfig(train=path, labels=LABELS, on_error=on_error, split=NO_SPLIT)
    return prepare_data(cfg, max_length=5, max_tokens=10, count_tokens=count_words)


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_fail_lists_every_problem_at_its_line(write, count_words, eol):
    path = write("train.csv", eol.join(DIRTY) + eol)
    with pytest.raises(DataError) as caught:
        _prepare(path, count_words, "fail")
    assert str(caught.value).startswith(f"8 bad rows in {path}; ")
    assert caught.value.problems == expected_problems(str(path))


def test_skip_keeps_good_rows_and_reports_each_bad_row_once(write, count_words):
    path = write("train.csv", "\n".join(DIRTY) + "\n")
    data = _prepare(path, count_words, "skip")
    assert [(e.line, e.text, e.label) for e in data.train] == [
        (2, "Where is my parcel?", "delivery"),
        (7, "multi line text", "account"),
        (14, "我要退款,谢谢", "refund"),
    ]
    assert data.validation == [] and data.test == []
    assert [str(e) for e in data.rejected] == expected_problems(str(path))
    assert data.report.dropped["rejected"] == 8
    assert data.report.errors_by_kind == {
        "empty text": 3,
        "empty label": 3,
        "unknown label": 1,
        "unparsable row": 1,
        "too many tokens": 1,
    }
    assert data.report.files[0].rows == 11 and data.report.files[0].rejected == 8


def test_rejected_file_holds_the_untouched_rows(write, count_words, tmp_path):
    lines = [line.replace("refnd", "ｒｅｆｎｄ\u3000") for line in DIRTY]  # text normalisation must not reach raw
    path = write("train.csv", "\r\n".join(lines) + "\r\n", encoding="gbk")
    data = _prepare(path, count_words, "skip")
    out = tmp_path / "run" / "rejected.csv"
    write_rejected(out, data.rejected)
    with out.open(encoding="utf-8", newline="") as file:
        records = list(csv.reader(file))
    assert records[0] == ["source", "line", "field", "problem", "raw"]
    by_line = {int(line): raw for _, line, _, _, raw in records[1:]}
    assert by_line == {
        3: ",refund",
        4: '"  <br>  ",refund',
        5: "I want my money back,",
        6: "I want my money back now,ｒｅｆｎｄ\u3000",
        9: "too,many,fields",
        10: "one two three four five six seven eight nine ten eleven,refund",
        11: ",",
        12: '"bad\r\nmulti",',
    }
    assert len(records) == 1 + 8  # one line per row: line 11's two problems share it
    assert next(r for r in records if r[1] == "11")[3].count("; ") == 1
    assert [p.name for p in out.parent.iterdir()] == ["rejected.csv"]  # no temporary file left behind


def test_jsonl_missing_null_and_mistyped_fields(write, count_words):
    rows = [
        '{"text": "good", "label": 1}',
        '{"label": 0}',
        '{"text": "no label", "label": null}',
        '{"text": ["a", "list"], "label": 1}',
        '{"text": 42, "label": 0.0}',
    ]
    path = write("train.jsonl", "\n".join(rows))
    data = prepare_data(DataConfig(train=path, on_error="skip", split=NO_SPLIT), max_length=8, max_tokens=64)
    assert [(e.line, e.text, e.label) for e in data.train] == [(1, "good", "1"), (5, "42", "0")]
    assert [str(e) for e in data.rejected] == [
        f"{path}:2: field 'text': missing text",
        f"{path}:3: field 'label': missing label",
        f"{path}:4: field 'text': text must be a string, found an array",
    ]


def test_missing_columns_of_all_files_are_reported_together(write):
    train = write("train.csv", "body,label\na,b\n")
    test = write("test.csv", "text,category\na,b\n")
    with pytest.raises(DataError) as caught:
        prepare_data(DataConfig(train=train, test=test), max_length=8, max_tokens=64)
    assert len(caught.value.problems) == 2
    assert "train.csv: no column 'text'; set data.text_column" in caught.value.problems[0]
    assert "test.csv: no column 'label'; set data.label_column" in caught.value.problems[1]


def test_undecodable_file_names_the_encoding_key(write):
    path = write("train.csv", "text,label\n退款,refund\n", encoding="gbk")
    with pytest.raises(DataError, match="set data.encoding"):
        prepare_data(DataConfig(train=path, encoding="utf-8"), max_length=8, max_tokens=64)


def test_no_usable_rows_left_is_an_error(write):
    path = write("train.csv", "text,label\n,refund\n")
    with pytest.raises(DataError, match="no training rows left"):
        prepare_data(DataConfig(train=path, on_error="skip"), max_length=8, max_tokens=64)
