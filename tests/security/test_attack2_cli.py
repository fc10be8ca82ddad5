"""Attack run 2, the CLI and server inputs that still ended in a traceback after the first fixes
(docs/security/attack-run-2.md, "Not fixed"): each is now one message, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.config import load_config
from tuneforge.errors import ConfigError

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    return result


@pytest.mark.parametrize(
    "database", ["garbage://x", "sqlite:////no/such/folder/serve.db", "postgresql://u:secret@127.0.0.1:1/x"]
)
def test_a_database_that_cannot_be_opened_is_one_message(database: str) -> None:
    result = _run("keys", "list", "--database", database)
    assert result.exit_code == 2 and "cannot open it" in result.output
    assert "secret" not in result.output


def test_serve_options_out_of_range_are_one_message(tmp_path: Path) -> None:
    result = _run("serve", str(tmp_path), "--port", "99999")
    assert result.exit_code == 2 and "port" in result.output


def test_compare_rates_that_are_no_numbers_are_one_message(make_config) -> None:
    result = _run("compare", str(make_config()), "--methods", "lora", "--lr", "lora=abc")
    assert result.exit_code == 2 and "expected a number" in result.output


def test_a_text_that_is_not_utf8_is_one_message(tmp_path: Path) -> None:
    result = _run("predict", str(tmp_path), "--text", "caf\udce9")
    assert result.exit_code == 2 and "not valid UTF-8" in result.output


def test_lora_ranks_without_bound_are_refused(make_config) -> None:
    with pytest.raises(ConfigError, match="method"):
        load_config(make_config(method={"name": "lora", "r": 1_000_000_000}))


def test_a_damaged_tokenizer_json_is_one_message(make_config, tmp_path: Path) -> None:
    import shutil

    from tuneforge.tasks import load_config as load_checked
    from tuneforge.tasks import train

    run = train(load_checked(make_config()))
    damaged = tmp_path / "damaged"
    shutil.copytree(run, damaged)
    (damaged / "model" / "tokenizer.json").write_text('{"version": "1.0", "trunc')
    result = _run("predict", str(damaged), "--text", "where is my parcel")
    assert result.exit_code == 2 and "is damaged" in result.output
