"""Hostile or malformed config inputs end in a short ConfigError, never a hang, a flood or a traceback."""

import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.config import parse_overrides
from tuneforge.errors import ConfigError
from tuneforge.tasks import load_config
from tuneforge.tasks.rules import config_problems  # noqa: F401  load_config imports it; not in the timings below


def _bomb(levels: int = 9) -> str:
    """A flow list whose aliases nest `levels` deep: ~900 bytes that expand to 9**levels values."""
    names = "abcdefghijklmnopqrstuvwxyz"
    lists = ["&a [" + ",".join(["1"] * 9) + "]"]
    lists += [f"&{names[i]} [" + ",".join([f"*{names[i - 1]}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ", ".join(lists) + "]"


def _config(tmp_path: Path, text: str = "") -> Path:
    (tmp_path / "train.csv").write_text("text,label\nhi,a\nho,b\n")
    path = tmp_path / "cfg.yaml"
    path.write_text(f"data: {{train: {tmp_path / 'train.csv'}}}\ntracking: none\n{text}", encoding="utf-8")
    return path


def _train(config: Path, *overrides: str):
    args = ["train", str(config)] + [part for item in overrides for part in ("--set", item)]
    # A wide console, so that rich does not wrap the message in the middle of what the test looks for.
    return CliRunner().invoke(app, args, env={"COLUMNS": "1000"})


def _refused_quickly(call, match: str) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ConfigError, match=match):
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0  # before the fix: past 90 s
    assert peak < 50 * 2**20  # before the fix: gigabytes


@pytest.mark.parametrize(
    "block", [f"train: {{seed: {_bomb()}}}\n", f"method: {{name: setfit, descriptions: {{a: {_bomb()}}}}}\n"]
)
def test_alias_bomb_in_a_known_key_is_refused_quickly(tmp_path: Path, block: str) -> None:
    assert len(block) < 1100
    path = _config(tmp_path, block)
    _refused_quickly(lambda: load_config(path), rf"{path} expands to more than 100,000 values \(YAML aliases\?\)")


def test_alias_bomb_in_a_set_value_is_refused_quickly() -> None:
    _refused_quickly(lambda: parse_overrides([f"train.seed={_bomb()}"]), r"--set 'train\.seed=.*expands to more")


def test_alias_bomb_through_the_cli(tmp_path: Path) -> None:
    result = _train(_config(tmp_path, f"train: {{seed: {_bomb()}}}\n"))
    assert result.exit_code == 2 and "(YAML aliases?)" in result.output
    assert "Traceback" not in result.output


def test_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expands to more than"):
        load_config(_config(tmp_path, "train: {seed: &a [*a]}\n"))


def test_aliases_of_a_sane_size_still_work(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, "train: {lr: &lr 0.001, weight_decay: *lr}\n"))
    assert cfg.train.lr == cfg.train.weight_decay == 0.001
    assert parse_overrides(["method.descriptions={a: &d [hello, hi], b: *d}"]) == {
        "method": {"descriptions": {"a": ["hello", "hi"], "b": ["hello", "hi"]}}
    }


def test_a_long_wrong_value_is_echoed_truncated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path), ["train.seed=" + "x" * 5000, "train.batch_size=" + str(list(range(5000)))])
    lines = str(info.value).splitlines()
    seed = next(line for line in lines if "'train.seed'" in line)
    batch = next(line for line in lines if "'train.batch_size'" in line)
    assert "got 'xxxx" in seed and len(seed) < 300
    assert "got [0, 1, 2" in batch and len(batch) < 300


def test_config_file_read_as_utf8_with_bom(tmp_path: Path) -> None:
    path = _config(tmp_path, "train: {epochs: 2}\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_config(path).train.epochs == 2


@pytest.mark.parametrize("encoding", ["gbk", "utf-16"])
def test_config_file_not_utf8_is_a_message(tmp_path: Path, encoding: str) -> None:
    path = _config(tmp_path)
    path.write_bytes(path.read_text(encoding="utf-8").replace("tracking", "# 中文注释\ntracking").encode(encoding))
    result = _train(path)
    assert result.exit_code == 2, result.output
    assert f"{path} is not UTF-8" in result.output and "save it as UTF-8" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("[1", "expected ',' or ']'"),
        ("!!python/object/apply:os.system ['echo', 'hi']", "could not determine a constructor"),
        ("\t1", "found character '\\t'"),
        ("*a", "found undefined alias 'a'"),
    ],
)
def test_set_value_that_is_not_yaml_is_a_message(tmp_path: Path, value: str, problem: str) -> None:
    result = _train(_config(tmp_path), f"train.lr={value}")
    assert result.exit_code == 2, result.output
    assert f"--set {f'train.lr={value}'!r}: not valid YAML: {problem}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("override", "echo"),
    [("train.lr=.inf", "got inf"), ("train.lr=.nan", "got nan"), ("train.epochs=1e400", "got '1e400'")],
)
def test_infinite_and_nan_floats_are_refused(tmp_path: Path, override: str, echo: str) -> None:
    result = _train(_config(tmp_path), override)
    assert result.exit_code == 2, result.output
    key = override.partition("=")[0]
    assert f"'{key}': Input should be a finite number, {echo}" in result.output
    assert "Traceback" not in result.output
