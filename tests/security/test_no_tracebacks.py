"""Inputs that used to end in a library traceback end in one message naming the file, model or line instead."""

import errno
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.errors import ConfigError, DataError, RunError
from tuneforge.models import resolve_model
from tuneforge.rundir.saved import load_model
from tuneforge.tasks.text_classification.task import build_classifier
from tuneforge.tasks.token_classification.task import build_tagger
from tuneforge.training import checkpoint
from tuneforge.training.checkpoint import TrainerState, capture_rng, load_checkpoint, load_weights, save_checkpoint


def _check(config: Path, env: dict[str, str] | None = None):
    """`tuneforge data check`; a wide console, so that rich does not wrap the message where the test looks."""
    result = CliRunner().invoke(app, ["data", "check", str(config)], env={"COLUMNS": "1000", **(env or {})})
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), result.exception
    return " ".join(result.output.split())


# (a) an unknown hub id while offline


def test_unknown_hub_id_offline_is_one_message(make_config) -> None:
    output = _check(make_config(model="nobody/no-such-model"), env={"HF_HUB_OFFLINE": "1"})
    assert "model 'nobody/no-such-model' is not a local dir and not in the Hugging Face cache" in output
    assert "the hub is offline" in output


def test_cached_hub_id_offline_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo, name: f"/cache/{repo}/{name}")
    assert resolve_model("bert-base-chinese") == "bert-base-chinese"


def test_model_that_does_not_load_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))  # no weights file
    with pytest.raises(ConfigError, match=f"model '{tmp_path}' cannot be loaded"):
        build_classifier(str(tmp_path), ["a", "b"])


# (b) a base model whose head has another label count


@pytest.fixture
def three_label_dirs(tmp_path: Path, tiny_model_dir: Path) -> tuple[Path, Path]:
    """A text classifier and a tagger saved with 3 labels, as in a finished run's model/."""
    build_classifier(str(tiny_model_dir), ["a", "b", "c"]).save_pretrained(tmp_path / "classifier")
    build_tagger(str(tiny_model_dir), ["O", "B-X", "I-X"]).save_pretrained(tmp_path / "tagger")
    return tmp_path / "classifier", tmp_path / "tagger"


def test_base_model_with_another_label_count_gets_a_fresh_head(three_label_dirs: tuple[Path, Path]) -> None:
    classifier_dir, tagger_dir = three_label_dirs
    classifier = build_classifier(str(classifier_dir), ["yes", "no"])
    assert classifier.config.num_labels == 2 and classifier.config.id2label == {0: "yes", 1: "no"}
    tagger = build_tagger(str(tagger_dir), ["O", "B-A", "I-A", "B-B", "I-B"])
    assert tagger.classifier.out_features == 5
    assert "3 labels and this run has 2: its head was rebuilt" in classifier.tuneforge_notes[0]
    assert "rebuilt for 5 labels" in tagger.tuneforge_notes[0]
    assert not hasattr(build_classifier(str(classifier_dir), ["x", "y", "z"]), "tuneforge_notes")  # same count


def test_a_run_from_a_classifier_with_another_label_count_notes_it_in_its_report(
    three_label_dirs: tuple[Path, Path], make_config
) -> None:
    from tuneforge.tasks import load_config, train

    classifier_dir, _ = three_label_dirs
    run = train(load_config(make_config(model=str(classifier_dir))))  # the intents data has 3 labels of its own
    assert "## Notes" not in (run / "report.md").read_text()  # 3 and 3: the head loads as it is
    two = make_config(model=str(classifier_dir), data={"train": str(run.parent.parent / "two.csv")})
    (run.parent.parent / "two.csv").write_text(
        "text,label\n" + "".join(f"text {i},{'ab'[i % 2]}\n" for i in range(40))
    )
    report = (train(load_config(two)) / "report.md").read_text()
    assert "## Notes" in report and "its head was rebuilt for 2 labels" in report


# (c) data files without a readable row


def test_header_only_csv_says_no_rows(make_config, tmp_path: Path) -> None:
    (tmp_path / "head.csv").write_text("text,label\n")
    output = _check(make_config(data={"train": str(tmp_path / "head.csv")}))
    assert f"{tmp_path / 'head.csv'}: no rows" in output


def test_file_whose_only_row_is_unparsable_names_it(make_config, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text('text,label\n"open quote,a\n')
    output = _check(make_config(data={"train": str(tmp_path / "bad.csv")}))
    assert f"{tmp_path / 'bad.csv'}:2: unparsable row" in output


@pytest.mark.parametrize("cell", [["a", "b"], {"a": "b"}], ids=["list", "struct"])
def test_parquet_nested_column_is_named(make_config, tmp_path: Path, cell: object) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"text": [cell, cell], "label": ["x", "y"]}), path)
    output = _check(make_config(data={"train": str(path)}))
    assert f"{path}: column 'text' holds lists/structs; expected text or numbers" in output


# (d) damaged checkpoint and model files


def _checkpoint(folder: Path, step: int) -> None:
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    save_checkpoint(
        folder, model=model, optimizer=optimizer, scheduler=scheduler, state=TrainerState(step=step), rng=capture_rng()
    )


def _resume(folder: Path) -> TrainerState:
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    return load_checkpoint(folder, model=model, optimizer=optimizer, scheduler=scheduler)


def _cut(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", ["model.safetensors", "train.pt", "state.json"])
def test_damaged_checkpoint_names_the_file(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "last"
    _checkpoint(folder, step=3)
    if damage == "state.json":
        (folder / damage).write_text("")
    else:
        _cut(folder / damage)
    with pytest.raises(RunError, match=rf"cannot resume: {folder / damage} is damaged.*without --resume"):
        _resume(folder)


def test_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    _checkpoint(tmp_path / "last", step=4)
    _checkpoint(tmp_path / "earlier", step=2)
    (tmp_path / "earlier").rename(tmp_path / "last.old")  # as a crash between save_checkpoint's renames leaves it
    _cut(tmp_path / "last" / "train.pt")
    assert _resume(tmp_path / "last").step == 2


def test_damaged_saved_weights_name_the_file(tmp_path: Path, three_label_dirs: tuple[Path, Path]) -> None:
    classifier_dir, _ = three_label_dirs
    run = tmp_path / "run"
    run.mkdir()
    classifier_dir.rename(run / "model")
    _cut(run / "model" / "model.safetensors")
    with pytest.raises(RunError, match=rf"{run / 'model'}: a .safetensors weights file is damaged"):
        load_model(run, {"saved_dir": "model"}, lambda path: build_classifier(path, ["a", "b", "c"]))
    weights = tmp_path / "adapter_model.safetensors"
    checkpoint.save_weights(torch.nn.Linear(2, 2), weights)
    _cut(weights)
    with pytest.raises(RunError, match=f"{weights} is damaged"):
        load_weights(torch.nn.Linear(2, 2), weights)


# (e) disk full during a checkpoint


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device"), RuntimeError("IoError(Os { code: 28, kind: StorageFull })")],
    ids=["oserror", "safetensors-text"],
)
def test_disk_full_during_a_checkpoint_keeps_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    folder = tmp_path / "last"
    _checkpoint(folder, step=3)

    def full(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(checkpoint, "save_file", full)
    with pytest.raises(RunError, match=rf"disk full while writing {folder}: free space and run with --resume"):
        _checkpoint(folder, step=5)
    assert not (tmp_path / "last.tmp").exists()
    assert _resume(folder).step == 3


# item 10: encodings are asked for, not guessed


def test_latin1_csv_asks_for_the_encoding(make_config, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncafé crème,drink\nthé au lait,drink\n".encode("latin-1"))
    output = _check(make_config(data={"train": str(path)}))
    assert f"{path}: the text is not UTF-8 nor GBK" in output and "set data.encoding" in output
    assert "cafť" not in output


def test_utf8_file_with_one_gbk_line_names_the_line(tmp_path: Path, make_config) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes("text,label\n你好,a\n谢谢,b\n".encode() + "退款,c\n".encode("gbk") + "再见,d\n".encode())
    output = _check(make_config(data={"train": str(path)}))
    assert f"{path}:4: not valid UTF-8 (byte 0xcd)" in output and "data.encoding" in output


def test_utf8_file_with_one_gbk_line_is_a_data_error() -> None:
    from tuneforge.data.encoding import decode

    with pytest.raises(DataError, match=r"a\.csv:2: not valid UTF-8"):
        decode(b"h\n" + "退款\n".encode("gbk") + "你好\n谢谢\n".encode(), "a.csv")
