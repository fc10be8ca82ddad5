"""A repeated column name in a header is a file:line error, never a silently dropped column."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.data.read import read_table
from tuneforge.errors import DataError

runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "text", "repeated"),
    [
        ("a.csv", "text,label,text\nhello,x,bye\n", "text"),
        ("b.csv", "label,text,label\nx,hello,y\n", "label"),
        ("c.tsv", "text\tlabel\ttext\nhello\tx\tbye\n", "text"),
        ("d.csv", "text,label,text,label\nhello,x,bye,y\n", "label, text"),
    ],
)
def test_delimited_duplicate_header(tmp_path: Path, name: str, text: str, repeated: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=f"{name}:1: the header names column\\(s\\) {repeated} more than once"):
        read_table(path)


def test_the_header_line_is_named_after_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("\n\ntext,text\na,b\n", encoding="utf-8")
    with pytest.raises(DataError, match="e.csv:3:"):
        read_table(path)


def test_unnamed_columns_may_repeat(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"  # trailing commas as spreadsheets write them: no config key can select them
    path.write_text("text,label,,\nhello,x,,\n", encoding="utf-8")
    assert read_table(path).rows[0].values["text"] == "hello"


def test_parquet_duplicate_column(tmp_path: Path) -> None:
    path = tmp_path / "g.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"])], names=["text", "text"]), path)
    with pytest.raises(DataError, match="g.parquet:1: .*text more than once"):
        read_table(path)


def test_cli_data_check_names_file_and_line(make_config, tmp_path: Path) -> None:
    data = tmp_path / "dup.csv"
    data.write_text("label,text,label\n" + "".join(f"a,hello {i},b\n" for i in range(20)), encoding="utf-8")
    result = runner.invoke(app, ["data", "check", str(make_config(data={"train": str(data)}))], catch_exceptions=False)
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "dup.csv:1" in result.output and "label" in result.output
