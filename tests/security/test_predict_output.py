"""`predict --output` files are safe to open in a spreadsheet, never overwrite an input column, and say when long
texts were cut to the run's max_length."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.serve.conftest import classifier_run  # noqa: F401  (fixture)
from tuneforge.cli import app
from tuneforge.data.records import output_columns, write_records
from tuneforge.errors import DataError

DANGEROUS = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3", "\tx", "\r=1"]
HARMLESS = ["-3", "+1.5", "-2.5e3", "hello", "", "a=b"]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_formula_cells_are_escaped_in_csv(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    write_records(out, ["cell", "n"], [{"cell": v, "n": -1} for v in DANGEROUS + HARMLESS])
    cells = [row["cell"] for row in _read_csv(out)]
    assert cells[: len(DANGEROUS)] == ["'" + v for v in DANGEROUS]
    assert cells[len(DANGEROUS) :] == HARMLESS  # plain numbers and ordinary text are unchanged
    assert {row["n"] for row in _read_csv(out)} == {"-1"}  # numeric values stay numbers


def test_a_formula_column_name_is_escaped(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    write_records(out, ["=cmd()", "text"], [{"=cmd()": "1", "text": "ok"}])
    assert out.read_text(encoding="utf-8").splitlines()[0] == "'=cmd(),text"


def test_jsonl_is_written_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    records = [{"cell": v} for v in DANGEROUS + HARMLESS]
    write_records(out, ["cell"], records)
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == records


def test_an_input_column_with_our_name_is_refused() -> None:
    with pytest.raises(DataError, match=r"'label', 'score'.*rename or drop"):
        output_columns(Path("in.csv"), ["id", "text", "label", "score"], ["label", "score"])
    assert output_columns(Path("in.csv"), ["id", "text"], ["label"]) == ["id", "text", "label"]


def test_predict_refuses_an_input_label_column(classifier_run: Path, tmp_path: Path) -> None:  # noqa: F811
    source = tmp_path / "in.csv"
    source.write_text("id,text,label\n1,where is my parcel,mine\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["predict", str(classifier_run), "--input", str(source), "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "'label'" in result.output and "overwritten" in result.output
    assert not out.exists()


def test_predict_writes_escaped_cells(classifier_run: Path, tmp_path: Path) -> None:  # noqa: F811
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "text"], *([str(-i), v] for i, v in enumerate(DANGEROUS))])
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["predict", str(classifier_run), "--input", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = _read_csv(out)
    assert [row["text"] for row in rows] == ["'" + v for v in DANGEROUS]
    assert [row["id"] for row in rows] == [str(-i) for i in range(len(DANGEROUS))]
    assert list(rows[0]) == ["id", "text", "label", "score"]


def test_predict_warns_when_texts_are_cut(classifier_run: Path, tmp_path: Path) -> None:  # noqa: F811
    long_text = "where is my parcel " * 200  # far over the run's max_length of 32 tokens
    source = tmp_path / "in.csv"
    source.write_text(f"text\n{long_text}\nshort one\n", encoding="utf-8")
    runner = CliRunner()
    args = ["predict", str(classifier_run), "--input", str(source), "--output", str(tmp_path / "out.jsonl")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 of 2 texts were longer than max_length 32 tokens" in " ".join(result.output.split())
    shown = runner.invoke(app, ["predict", str(classifier_run), "--text", long_text[:40], "--text", long_text])
    assert "1 of 2 texts were longer" in " ".join(shown.output.split())
    quiet = runner.invoke(app, ["predict", str(classifier_run), "--text", "short one"])
    assert "longer than max_length" not in quiet.output


def test_the_python_api_counts_cut_texts_without_printing(classifier_run: Path, capsys) -> None:  # noqa: F811
    from tuneforge.tasks.text_classification.estimator import TextClassifier

    clf = TextClassifier.load(classifier_run)
    texts = ["where is my parcel " * 200, "short", "refund " * 100]
    assert clf.truncated(texts) == 2 and clf.truncated([]) == 0
    clf.predict(texts)
    assert "longer than max_length" not in capsys.readouterr().out


def test_predict_windows_flag_reads_long_texts_without_the_cut_warning(classifier_run: Path, tmp_path: Path) -> None:  # noqa: F811
    from typer.testing import CliRunner

    from tuneforge.cli import app

    long_text = " ".join(["where is my parcel"] * 60)
    result = CliRunner().invoke(app, ["predict", str(classifier_run), "--text", long_text, "--windows"])
    assert result.exit_code == 0, result.output
    assert "were cut" not in result.output and "Traceback" not in result.output
