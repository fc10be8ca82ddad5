"""Attack run 2 (docs/security/attack-run-2.md): inputs that ended in a traceback, replaced a device file or were
read silently wrong. Each is now one message naming the file, line or key."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tuneforge.config import load_config
from tuneforge.data.read import read_table
from tuneforge.data.records import write_records
from tuneforge.errors import ConfigError, DataError, RunError
from tuneforge.rundir import read_manifest, run_config, staging_dir


@pytest.mark.parametrize("extra", [b"\x00\n", b"epochs_note: \x01\n"])
def test_control_characters_in_a_config_are_a_message(make_config, extra: bytes) -> None:
    path = make_config()
    path.write_bytes(path.read_bytes() + extra)
    with pytest.raises(ConfigError, match="not valid YAML: unacceptable character"):
        load_config(path)


@pytest.mark.parametrize("value", ["output_dir=runs/\udcff", "train.epochs=" + "9" * 5000])
def test_set_values_python_cannot_read_are_a_message(make_config, value: str) -> None:
    with pytest.raises(ConfigError, match="--set"):
        load_config(make_config(), [value])


@pytest.mark.parametrize("seed", [-1, 2**32, 2**64])
def test_a_seed_numpy_refuses_is_a_config_error(make_config, seed: int) -> None:
    with pytest.raises(ConfigError, match="train.seed"):
        load_config(make_config(), [f"train.seed={seed}"])


def test_text_column_equal_to_label_column_is_refused(make_config) -> None:
    from tuneforge.tasks import load_config as load_checked

    with pytest.raises(ConfigError) as error:
        load_checked(make_config(), ["data.text_column=label", "data.label_column=label"])
    assert any("shown its label as the text" in p for p in error.value.problems)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"text": ' + "[" * 5000 + "]" * 5000 + ', "label": "a"}', "nested too deeply"),
        ('{"text": ' + "9" * 5000 + ', "label": "a"}', "4300 digits"),
        ('{"text": "a\\ud800b", "label": "a"}', "lone surrogate"),
        ('{"text": "wrong", "label": "a", "text": "right"}', "key(s) text more than once"),
    ],
)
def test_hostile_jsonl_lines_are_row_errors(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "fine", "label": "a"}\n' + line + "\n", encoding="utf-8")
    table = read_table(path)
    assert table.rows[0].values == {"text": "fine", "label": "a"}
    assert table.rows[1].values is None and table.rows[1].line == 2
    assert problem in table.rows[1].error


@pytest.mark.parametrize("target", ["pipe", "folder", "missing/dir/out.csv"])
def test_predictions_are_not_written_over_devices_folders_or_into_nothing(tmp_path: Path, target: str) -> None:
    # A fifo stands in for /dev/stdout or /dev/null: the unfixed code replaced the real device with a regular file.
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError, match="--output"):
        write_records(tmp_path / target, ["text"], [{"text": "x"}])
    assert (tmp_path / "pipe").is_fifo()


def test_a_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "pipe")
    with pytest.raises(DataError, match="not a regular file"):
        write_records(link, ["text"], [{"text": "x"}])
    assert (tmp_path / "pipe").is_fifo()


@pytest.mark.parametrize("name", ["x" * 300, "data.csv/run"])
def test_an_output_dir_the_filesystem_refuses_is_a_message(tmp_path: Path, name: str) -> None:
    (tmp_path / "data.csv").write_text("text,label\n", encoding="utf-8")
    with pytest.raises(RunError, match="output_dir"):
        staging_dir(tmp_path / name, resume=False)


@pytest.mark.parametrize("content", [b"{oops", b"[1, 2]", b'{"task": "\xff"}', b"[" * 100_000 + b"]" * 100_000])
def test_a_damaged_manifest_is_a_message(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "manifest.json").write_bytes(content)
    with pytest.raises(RunError, match="manifest.json is damaged"):
        read_manifest(tmp_path)


ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh", strict=True)
)


@pytest.mark.parametrize(
    "content", ["a: [\n", "task: !!python/object/apply:os.system ['true']\n", "- 1\n", "", ALIAS_BOMB]
)
def test_a_damaged_run_config_is_a_quick_message(tmp_path: Path, content: str) -> None:
    import time

    (tmp_path / "config.yaml").write_text(content, encoding="utf-8")
    start = time.monotonic()
    with pytest.raises(RunError, match="config.yaml is damaged"):
        run_config(tmp_path)
    assert time.monotonic() - start < 5  # the alias bomb took 30 s and gigabytes before


def test_a_model_dir_transformers_cannot_read_is_a_message(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    from tuneforge.models import load_pretrained

    folder = shutil.copytree(tiny_model_dir, tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "evilnet"}))
    with pytest.raises(ConfigError, match="cannot be loaded: The checkpoint"):
        load_pretrained(AutoModelForSequenceClassification, str(folder), num_labels=2)


def test_a_planted_pickle_as_weights_is_a_message_and_runs_nothing(tiny_model_dir: Path, tmp_path: Path) -> None:
    import pickle

    from transformers import AutoModelForSequenceClassification

    from tuneforge.models import load_pretrained

    marker = tmp_path / "PWNED"

    class Planted:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (Path.touch, (marker,))

    folder = shutil.copytree(tiny_model_dir, tmp_path / "model")
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Planted()))
    with pytest.raises(ConfigError, match="cannot be loaded"):
        load_pretrained(AutoModelForSequenceClassification, str(folder), num_labels=2)
    assert not marker.exists()
