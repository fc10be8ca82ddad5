"""Chat data: the three input forms, and file:line errors naming the field for every malformed row."""

import json
from pathlib import Path

import pytest

from tuneforge.config import Config
from tuneforge.config.sft import SftConfig
from tuneforge.errors import ConfigError, DataError
from tuneforge.tasks.causal_lm_sft.chats import read_conversations


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_reads_chat_alpaca_and_csv(tmp_path: Path) -> None:
    chat = _jsonl(
        tmp_path / "chat.jsonl",
        [
            {"messages": [{"role": "user", "content": "退货?"}, {"role": "assistant", "content": "15天内。"}]},
            {"instruction": "Translate", "input": "你好", "output": "Hello"},
        ],
    )
    _, conversations, errors = read_conversations(chat, "auto", "auto", SftConfig(system_prompt="Be brief."))
    assert not errors
    assert conversations[0].messages[0] == {"role": "system", "content": "Be brief."}
    assert conversations[1].prompt[-1]["content"] == "Translate\n\n你好" and conversations[1].reference == "Hello"
    csv = tmp_path / "qa.csv"
    csv.write_text("q,a\nWhere is my parcel?,3-5 working days.\n", encoding="utf-8")
    _, conversations, _ = read_conversations(csv, "auto", "auto", SftConfig(question_column="q", answer_column="a"))
    assert conversations[0].question == "Where is my parcel?" and conversations[0].line == 2


def test_every_bad_row_is_named_by_file_line_and_field(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "bad.jsonl",
        [
            {"messages": [{"role": "user", "content": "ok"}, {"role": "assistant", "content": "fine"}]},
            {"messages": [{"role": "customer", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
            {"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "hello"}]},
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "a"},
                    {"role": "user", "content": "?"},
                ]
            },
            {"instruction": "Say hi", "output": ""},
            {"text": "no chat here"},
        ],
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    _, conversations, errors = read_conversations(path, "auto", "auto", SftConfig())
    assert len(conversations) == 1
    shown = [str(e) for e in errors]
    assert (
        shown[0]
        == f"{path}:2: field 'messages[0].role': unknown role 'customer'; expected one of system, user, assistant"
    )
    assert shown[1] == f"{path}:3: field 'messages[0].content': empty turn"
    assert shown[2].startswith(f"{path}:4: field 'messages[2].role': the conversation ends with 'user'")
    assert shown[3] == f"{path}:5: field 'output': empty turn"
    assert shown[4].startswith(f"{path}:6: no conversation found")
    assert shown[5].startswith(f"{path}:7: unparsable row: invalid JSON")


def _config(tmp_path: Path, **extra) -> Config:
    train = _jsonl(tmp_path / "t.jsonl", [{"question": "q", "answer": "a"}])
    return Config.model_validate({"task": "causal-lm-sft", "data": {"train": str(train)}, "method": "lora", **extra})


def test_over_length_policy_and_fail_mode(tmp_path: Path, tiny_llama_dir: Path) -> None:
    from transformers import AutoTokenizer

    from tuneforge.tasks.causal_lm_sft.task import CausalLMSft

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    rows = [{"question": f"question {i}", "answer": "short"} for i in range(10)] + [
        {"question": "x" * 300, "answer": "y"}
    ]
    train = _jsonl(tmp_path / "long.jsonl", rows)

    def prepare(policy: str):
        cfg = Config.model_validate(
            {
                "task": "causal-lm-sft",
                "data": {"train": str(train), "split": {"validation": 0.2, "test": 0}},
                "train": {"max_length": 120},
                "sft": {"over_length": policy},
            }
        )
        return CausalLMSft.prepare_data(cfg, tokenizer)

    assert sum(len(s) for s in (prepare("truncate").train, prepare("truncate").validation)) == 11
    dropped = prepare("drop")
    assert len(dropped.train) + len(dropped.validation) == 10 and dropped.report.dropped["over_length"] == 1
    with pytest.raises(DataError) as caught:
        prepare("fail")
    assert f"{train}:11: field 'messages':" in str(caught.value) and "over train.max_length 120" in str(caught.value)


def test_encoder_only_methods_are_refused(tmp_path: Path) -> None:
    from tuneforge.tasks import with_main_metric

    assert with_main_metric(_config(tmp_path)).train.early_stopping.metric == "loss"
    from tuneforge.tasks.rules import check_config

    for method in ("bitfit", "freeze", "setfit", "zeroshot-embed", "adapter"):
        with pytest.raises(ConfigError) as caught:
            check_config(_config(tmp_path, method=method))
        assert f"method {method} does not fit task causal-lm-sft" in caught.value.problems[0]
    with pytest.raises(ConfigError, match="sft.over_length"):
        from tuneforge.config import load_config

        path = tmp_path / "c.yaml"
        path.write_text(f"task: causal-lm-sft\ndata: {{train: {tmp_path / 't.jsonl'}}}\nsft: {{over_length: cut}}\n")
        load_config(path)
