"""Hardening leftovers: each test names the report it closes."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from tests.unit.serve.conftest import classifier_run, serve_client  # noqa: F401  (fixtures)
from tests.unit.serve.test_record_predict import record_runs  # noqa: F401  (fixture)
from tuneforge.cli import app
from tuneforge.config import DataConfig
from tuneforge.config.sft import SftConfig
from tuneforge.evaluate.plots import plot_confusion
from tuneforge.serve.schemas import PredictRequest
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


SURROGATE_RECORDS = b'[{"age": 35}, {"purpose": "car\\ud800"}, {"tags": ["ok", {"\\udc00": 1}]}]'


def test_records_with_lone_surrogates_get_a_422(serve_client, record_runs) -> None:  # noqa: F811
    """Report: JSON `records` (tabular/recommendation input) are not checked for lone surrogates."""
    client, keys = serve_client(record_runs)
    headers = {"Authorization": f"Bearer {keys['predict']}", "Content-Type": "application/json"}
    for name in record_runs:
        response = client.post(
            f"/v1/models/{name}/predict", content=b'{"records": ' + SURROGATE_RECORDS + b"}", headers=headers
        )
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "records"]
        assert "records[1].purpose: not valid Unicode: a lone surrogate at character 3" in error["msg"]
        assert "records[2].tags[1].\ufffd (key): not valid Unicode" in error["msg"]
        assert "records[0]" not in error["msg"]


def test_records_with_valid_unicode_pass_the_schema() -> None:
    records = [{"purpose": "car 🚗", "名字": ["ok", {"k": "\u00e9"}], "n": 1.5}]
    assert PredictRequest.model_validate({"records": records}).records == records
    with pytest.raises(ValueError, match=r"records\[0\]\.purpose"):
        PredictRequest.model_validate({"records": [{"purpose": "\ud800"}]})


def test_cli_predict_refuses_empty_texts_like_the_server(classifier_run: Path, tmp_path: Path) -> None:  # noqa: F811
    """Report: CLI `predict` labels empty texts while the server refuses them (make them agree)."""
    runner = CliRunner()
    inline = runner.invoke(app, ["predict", str(classifier_run), "--text", "fine", "--text", " "])
    assert inline.exit_code == 2, inline.output
    assert "--text 2: empty text" in " ".join(inline.output.split()) and "Traceback" not in inline.output

    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text('text,id\nfine,1\n,2\n"  ",3\nalso fine,4\n', encoding="utf-8")
    result = runner.invoke(app, ["predict", str(classifier_run), "--input", str(source), "--output", str(out)])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())  # the terminal wraps long lines
    assert f"{source}:3: empty text" in message and f"{source}:4: empty text" in message
    assert "2 row(s) with an empty text" in message and "Traceback" not in message
    assert not out.exists()
