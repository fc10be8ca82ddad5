"""read_table: formats, encodings, line numbers of records, and whole-file errors."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tuneforge.data import read_table
from tuneforge.errors import DataError

MULTILINE_CSV = (
    "text,label\n"
    '"first line\nsecond line",refund\n'
    "plain,delivery\n"
    '"a ""quoted"" word, with comma",account\n'
    '"three\nline\ntext",other\n'
    "last,refund\n"
)


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_csv_records_start_at_their_physical_line(write, eol):
    path = write("train.csv", MULTILINE_CSV.replace("\n", eol))
    table = read_table(path)
    assert table.columns == ["text", "label"]
    assert [row.line for row in table.rows] == [2, 4, 5, 6, 9]
    assert table.rows[0].values == {"text": f"first line{eol}second line", "label": "refund"}
    assert table.rows[2].values == {"text": 'a "quoted" word, with comma', "label": "account"}
    assert table.rows[3].raw == f'"three{eol}line{eol}text",other'
    assert table.rows[4].raw == "last,refund"


def test_csv_wrong_field_count_is_an_unparsable_row_at_its_line(write):
    table = read_table(write("t.csv", "text,label\nok,refund\ntoo,many,fields\nnone\nok again,refund\n"))
    assert [(row.line, row.error) for row in table.rows] == [
        (2, None),
        (3, "unparsable row: expected 2 fields, found 3"),
        (4, "unparsable row: expected 2 fields, found 1"),
        (5, None),
    ]
    assert table.rows[1].values is None and table.rows[1].raw == "too,many,fields"


def test_csv_unclosed_quote_points_at_the_lines_it_swallowed(write):
    # The one row swallowed every line after it, so no row can be read: one error, naming those lines.
    with pytest.raises(DataError) as caught:
        read_table(write("t.csv", 'text,label\n"oops,refund\nnext,refund\nlast,refund\n'))
    assert any("lines 2-4: is a quote left open?" in problem for problem in caught.value.problems)


def test_csv_blank_lines_are_skipped_but_counted(write):
    table = read_table(write("t.csv", "text,label\n\na,refund\n   \n\nb,delivery\n"))
    assert [(row.line, row.values["text"]) for row in table.rows] == [(3, "a"), (6, "b")]


def test_tsv_treats_quotes_as_text(write):
    table = read_table(write("t.tsv", 'sentence\tlabel\nhe said "hi\t1\n"quoted"\t0\n'))
    assert table.format == "tsv"
    assert [row.values for row in table.rows] == [
        {"sentence": 'he said "hi', "label": "1"},
        {"sentence": '"quoted"', "label": "0"},
    ]
    assert [row.line for row in table.rows] == [2, 3]


def test_jsonl_rows_and_errors_carry_their_line(write):
    content = '{"text": "a", "label": 1}\n\n{bad json\n[1, 2]\n{"text": "b", "label": "x", "extra": true}\n'
    table = read_table(write("t.jsonl", content))
    assert table.columns == ["text", "label", "extra"]
    assert [row.line for row in table.rows] == [1, 3, 4, 5]
    assert table.rows[0].values == {"text": "a", "label": 1}
    assert table.rows[1].error.startswith("unparsable row: invalid JSON: Expecting property name")
    assert table.rows[2].error == "unparsable row: expected a JSON object, found an array"
    assert table.rows[2].raw == "[1, 2]"


def test_json_array_file_is_rejected_with_a_hint(write):
    with pytest.raises(DataError, match="one JSON array; expected JSON Lines"):
        read_table(write("t.json", json.dumps([{"text": "a", "label": "b"}], indent=2)))


def test_parquet_rows_are_numbered_as_if_after_a_header(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": ["退款", "where"], "label": [0, 1]}), path)
    table = read_table(path)
    assert table.columns == ["text", "label"]
    assert [(row.line, row.values) for row in table.rows] == [
        (2, {"text": "退款", "label": 0}),
        (3, {"text": "where", "label": 1}),
    ]
    assert json.loads(table.rows[0].raw) == {"text": "退款", "label": 0}


def test_format_comes_from_suffix_or_config(write):
    path = write("t.txt", "text\tlabel\na\tb\n")
    with pytest.raises(DataError, match=r"t\.txt: cannot tell the format from the suffix '\.txt'; set data.format"):
        read_table(path)
    assert read_table(path, fmt="tsv").rows[0].values == {"text": "a", "label": "b"}


def test_gbk_file_is_detected_and_decoded(write):
    path = write("t.csv", "text,label\n我要退款，谢谢,退款\n", encoding="gbk")
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert table.rows[0].values == {"text": "我要退款，谢谢", "label": "退款"}


@pytest.mark.parametrize(("encoding", "detected"), [("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16")])
def test_bom_files_are_detected_and_the_bom_is_not_part_of_the_header(write, encoding, detected):
    table = read_table(write("t.csv", "text,label\r\n你好,greet\r\n", encoding=encoding))
    assert table.encoding == detected
    assert table.columns == ["text", "label"]
    assert table.rows[0].values == {"text": "你好", "label": "greet"}


def test_explicit_encoding_is_used_and_its_errors_name_the_line_and_key(write):
    path = write("t.csv", "text,label\nok,a\n退款,b\n", encoding="gbk")
    assert read_table(path, encoding="gbk").rows[1].values["text"] == "退款"
    with pytest.raises(DataError, match=r"t\.csv: line 3 is not valid utf-8 .*set data.encoding"):
        read_table(path, encoding="utf-8")
    with pytest.raises(DataError, match="unknown encoding 'klingon' in data.encoding"):
        read_table(path, encoding="klingon")


def test_an_encoding_that_can_only_be_guessed_is_asked_for(write):
    path = write("t.csv", "text,label\ncafé crème,x\n", encoding="cp1252")
    with pytest.raises(DataError, match="set data.encoding"):
        read_table(path)
    assert read_table(path, encoding="cp1252").rows[0].values["text"] == "café crème"


def test_missing_column_names_file_column_found_columns_and_key(write):
    table = read_table(write("t.csv", "Text,category\na,b\n"))
    with pytest.raises(DataError) as caught:
        table.require({"data.text_column": "text", "data.label_column": "label"})
    problems = caught.value.problems
    assert problems[0] == (
        f"{table.source}: no column 'text'; set data.text_column to the column that holds it. "
        "Columns found: 'Text', 'category' (did you mean 'Text'?)"
    )
    assert "no column 'label'; set data.label_column" in problems[1]


def test_semicolon_header_gets_a_separator_hint(write):
    table = read_table(write("t.csv", "text;label\na;b\n"))
    with pytest.raises(DataError, match="one column holding separators"):
        table.require({"data.text_column": "text"})


@pytest.mark.parametrize(("content", "message"), [(b"", "the file is empty"), (b"\n\n", "the file is empty")])
def test_empty_files_raise(write, content, message):
    with pytest.raises(DataError, match=message):
        read_table(write("t.csv", content))


def test_missing_file_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.csv")
