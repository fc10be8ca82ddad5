from pathlib import Path

import pytest

from tuneforge.config import parse_overrides
from tuneforge.errors import ConfigError
from tuneforge.tasks import load_config


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "train.csv").write_text("text,label\nhi,a\n")
    path = tmp_path / "cfg.yaml"
    path.write_text(text.replace("TRAIN", str(tmp_path / "train.csv")))
    return path


def test_defaults_and_overrides(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "data: {train: TRAIN}\n"), ["train.epochs=2", "tracking=none"])
    assert cfg.train.epochs == 2
    assert cfg.tracking.backend == "none"
    assert cfg.output_dir == Path("runs/cfg")
    assert cfg.max_tokens == 8 * cfg.train.max_length
    assert cfg.train.mixed_precision == "auto"


def test_yaml_no_is_the_precision_no(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "data: {train: TRAIN}\ntrain: {mixed_precision: no}\n"))
    assert cfg.train.mixed_precision == "no"
    assert (
        load_config(_write(tmp_path, "data: {train: TRAIN}\n"), ["train.mixed_precision=no"]).train.mixed_precision
        == "no"
    )


def test_all_problems_reported_together_with_key_paths(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: TRAIN, on_eror: skip}\ntrain: {lr: -1, epochs: many}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "unknown key 'data.on_eror' (did you mean 'on_error'?)" in message
    assert "'train.lr': Input should be greater than 0, got -1" in message
    assert "'train.epochs'" in message and "'many'" in message


def test_missing_data_file_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: TRAIN, test: nowhere.csv}\n")
    with pytest.raises(ConfigError, match=r"'data.test': file nowhere.csv does not exist"):
        load_config(path)


def test_bad_override_and_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected KEY.PATH=VALUE"):
        parse_overrides(["train.epochs"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_split_must_leave_training_data(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: TRAIN, split: {validation: 0.5, test: 0.45}}\n")
    with pytest.raises(ConfigError, match="at least 10% for training"):
        load_config(path)


def test_method_blocks_are_checked_per_method(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "data: {train: TRAIN}\nmethod: lora\n"), ["method.r=4"])
    assert (cfg.method.name, cfg.method.r, cfg.method.alpha) == ("lora", 4, 16)
    assert load_config(_write(tmp_path, "data: {train: TRAIN}\n")).method.name == "full"
    path = _write(tmp_path, "data: {train: TRAIN}\nmethod: {name: lora, alfa: 4, freeze_layers: 2}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "unknown key 'method.alfa' (did you mean 'alpha'?)" in message
    assert "unknown key 'method.freeze_layers'" in message  # a key of another method's block


def test_unknown_method_name_suggests_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'method.name': unknown name 'lorra' \(did you mean 'lora'\?\)"):
        load_config(_write(tmp_path, "data: {train: TRAIN}\nmethod: {name: lorra}\n"))
    with pytest.raises(ConfigError, match=r"'method.name': no name given; expected one of: full, freeze, bitfit"):
        load_config(_write(tmp_path, "data: {train: TRAIN}\nmethod: {r: 4}\n"))
    with pytest.raises(ConfigError, match="warmup_share \\+ final_share must be < 1"):
        load_config(
            _write(tmp_path, "data: {train: TRAIN}\nmethod: {name: adalora, warmup_share: 0.5, final_share: 0.5}\n")
        )


def test_extend_vocab_needs_full_fine_tuning(tmp_path: Path) -> None:
    config = _write(tmp_path, "data: {train: TRAIN}\nextend_vocab: true\nmethod: lora\n")
    with pytest.raises(ConfigError, match="extend_vocab .* not lora"):
        load_config(config)


@pytest.mark.parametrize(
    ("task", "overrides", "packed", "grouped"),
    [
        ("text-classification", [], False, True),  # cannot pack
        ("causal-lm-sft", [], True, False),  # packed chats (the default) train on random batches
        ("token-classification", [], True, False),
        ("token-classification", ["method=prompt"], False, True),  # virtual tokens: no packing
        ("causal-lm-sft", ["train.packing=false"], False, True),
        ("causal-lm-sft", ["train.group_by_length=true"], True, True),  # an explicit choice wins
    ],
)
def test_packing_and_length_grouping(
    tmp_path: Path, task: str, overrides: list[str], packed: bool, grouped: bool
) -> None:
    from tuneforge.run import _with_batching

    cfg = load_config(_write(tmp_path, f"task: {task}\ndata: {{train: TRAIN}}\n"), overrides)
    train = _with_batching(cfg, _loop_task(task))
    assert (train.packing, train.group_by_length) == (packed, grouped)


@pytest.mark.parametrize(
    ("task", "overrides"),
    [("text-classification", []), ("token-classification", ["method=prefix"])],
)
def test_packing_where_it_cannot_be_is_a_config_error(tmp_path: Path, task: str, overrides: list[str]) -> None:
    path = _write(tmp_path, f"task: {task}\ndata: {{train: TRAIN}}\n")
    with pytest.raises(ConfigError, match="train.packing"):
        load_config(path, [*overrides, "train.packing=true"])


def _loop_task(name: str) -> type:
    from tuneforge.tasks.causal_lm_sft.task import CausalLMSft
    from tuneforge.tasks.text_classification.task import TextClassification
    from tuneforge.tasks.token_classification.task import TokenClassification

    classes = {"text-classification": TextClassification, "token-classification": TokenClassification}
    return {**classes, "causal-lm-sft": CausalLMSft}[name]


@pytest.mark.parametrize(("bf16_instructions", "expected"), [(True, "bf16"), (False, "no")])
def test_auto_precision_on_cpu_follows_bf16_instructions(monkeypatch, bf16_instructions: bool, expected: str) -> None:
    import torch

    from tuneforge import run

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: bf16_instructions)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert run._precision("auto") == expected
    assert run._precision("no") == "no" and run._precision("bf16") == "bf16"
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")  # a torch without the private probe: stay in fp32
    assert run._precision("auto") == "no"


@pytest.mark.parametrize("override", ["pooling=mean", "train.label_smoothing=0.1"])
def test_text_classification_options_refused_for_other_tasks(tmp_path: Path, override: str) -> None:
    path = _write(tmp_path, "task: token-classification\ndata: {train: TRAIN, format: jsonl}\n")
    key = override.split("=")[0]
    with pytest.raises(ConfigError, match=f"{key} is an option of task text-classification, not token-classification"):
        load_config(path, [override])


def test_adversarial_training_block(tmp_path: Path) -> None:
    path = _write(tmp_path, "data: {train: TRAIN}\n")
    assert load_config(path).train.adversarial is None
    block = load_config(path, ["train.adversarial={epsilon: 0.5}"]).train.adversarial
    assert (block.method, block.epsilon) == ("fgm", 0.5)
    with pytest.raises(ConfigError, match="train.adversarial.epsilon"):
        load_config(path, ["train.adversarial={epsilon: 0}"])
    with pytest.raises(ConfigError, match="train.adversarial needs training; method zeroshot-embed trains nothing"):
        load_config(path, ["train.adversarial={}", "method=zeroshot-embed"])
    assert load_config(path, ["train.adversarial={}", "method=setfit"]).train.adversarial.epsilon == 0.2
