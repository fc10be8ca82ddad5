"""GGUF export: write a tiny Llama, read it back with transformers' GGUF loader, compare logits and tokens.

transformers undoes llama.cpp's layout when it loads a GGUF (Q/K row order, tensor names, tokenizer keys), so a
file that reads back to the same logits and token ids has what llama.cpp needs.
"""

import json
from pathlib import Path

import pytest
import torch
import yaml
from gguf import GGMLQuantizationType, GGUFReader
from transformers import AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.errors import TuneforgeError
from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel
from tuneforge.tasks.causal_lm_sft.gguf import write_gguf

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CORPUS = [
    "How long is the refund window? You can return items within 15 days of delivery.",
    "When will my order arrive? Orders arrive in 3-5 working days, tracking 1234567.",
    "退货期限是多久? 签收后15天内可以申请退货。",
    "多久能送到? 下单后3-5个工作日送达。客服电话是多少? 请拨打客服热线400-820-1234。",
    "The quick brown fox jumps over the lazy dog; it's what they'd say, isn't it?",
]
TEXTS = [
    "How long is the refund window?",
    "退货期限是多久? 签收后15天内",
    "  spaces,\ttabs\nand 12345 digits; it's <think> time",
    "<|im_start|>user\nhi<|im_end|>\n",
    "emoji 🙂 and Ünïcödé",
]


def _byte_level_bpe():
    """A byte-level BPE tokenizer with merges learnt from CORPUS, ChatML specials and one user-defined token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)  # the GPT-2 regex split
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(CORPUS * 4, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.add_tokens(["<think>"])
    tokenizer.chat_template = CHATML
    return tokenizer


def _tiny_llama(tokenizer, tied: bool):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer) + 3,  # padded embeddings: ids the tokenizer never produces
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,  # grouped-query attention, as SmolLM2 (9 heads, 3 KV heads)
        max_position_embeddings=512,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 50000.0},
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=tied,
        initializer_range=0.1,
    )
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # norms start as ones; distinct values make a swapped norm show in the logits
        for name, param in model.named_parameters():
            if "norm" in name:
                param.uniform_(0.5, 1.5)
    return model


@pytest.fixture(scope="module")
def tokenizer():
    return _byte_level_bpe()


@pytest.fixture(scope="module", params=[True, False], ids=["tied", "untied"])
def model(request, tokenizer):
    return _tiny_llama(tokenizer, tied=request.param)


def _read_back(path: Path):
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name).eval()
    return model, AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)


def _max_logit_difference(source, loaded, tokenizer) -> float:
    worst = 0.0
    with torch.no_grad():
        for text in TEXTS:
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            worst = max(worst, (source(ids).logits - loaded(ids).logits).abs().max().item())
    return worst


def test_f32_reads_back_to_the_same_logits_and_tokens(tmp_path: Path, model, tokenizer) -> None:
    path = write_gguf(model, tokenizer, tmp_path / "tiny.gguf", "f32")
    loaded, loaded_tokenizer = _read_back(path)
    assert _max_logit_difference(model, loaded, tokenizer) < 1e-4
    for text in TEXTS:
        assert loaded_tokenizer(text)["input_ids"] == tokenizer(text)["input_ids"], text
    chat = [{"role": "user", "content": "退货期限是多久?"}]
    assert loaded_tokenizer.apply_chat_template(chat, add_generation_prompt=True) == tokenizer.apply_chat_template(
        chat, add_generation_prompt=True
    )
    assert (loaded_tokenizer.bos_token, loaded_tokenizer.eos_token) == ("<|im_start|>", "<|im_end|>")
    assert not list(tmp_path.glob("*.partial"))


def test_file_holds_what_llama_cpp_reads(tmp_path: Path, model, tokenizer) -> None:
    reader = GGUFReader(write_gguf(model, tokenizer, tmp_path / "tiny.gguf", "f16"))

    def field(key: str):
        return reader.fields[key].contents()

    assert field("general.architecture") == "llama"
    assert (field("llama.attention.head_count"), field("llama.attention.head_count_kv")) == (4, 2)
    assert field("llama.rope.freq_base") == 50000.0 and field("llama.context_length") == 512
    assert (field("tokenizer.ggml.model"), field("tokenizer.ggml.pre")) == ("gpt2", "gpt2")
    assert field("tokenizer.chat_template") == CHATML
    tokens, types = field("tokenizer.ggml.tokens"), field("tokenizer.ggml.token_type")
    assert len(tokens) == model.config.vocab_size and tokens[-1] == f"[PAD{len(tokens) - 1}]" and types[-1] == 5
    assert types[tokens.index("<|im_end|>")] == 3 and types[tokens.index("<think>")] == 4  # control, user-defined
    tensors = {t.name: t.tensor_type for t in reader.tensors}
    assert ("output.weight" in tensors) != model.config.tie_word_embeddings
    assert tensors["blk.0.attn_norm.weight"] == GGMLQuantizationType.F32
    assert tensors["blk.0.attn_q.weight"] == GGMLQuantizationType.F16


# f16 keeps 11 significant bits (relative rounding 2**-11 ~ 5e-4 per weight); q8_0 stores each block of 32 values
# as 8-bit integers with one scale (error up to 1/254 of the block's largest value). Measured on this model, as a
# fraction of the largest |logit| (~3.5): f16 1.1e-3, q8_0 2.5e-2 to 3.6e-2; the bounds leave about 3x room.
@pytest.mark.parametrize(("outtype", "bound"), [("f16", 5e-3), ("q8_0", 0.1)])
def test_smaller_types_stay_close(tmp_path: Path, model, tokenizer, outtype: str, bound: float) -> None:
    path = write_gguf(model, tokenizer, tmp_path / "tiny.gguf", outtype)
    with torch.no_grad():
        span = max(model(**tokenizer(text, return_tensors="pt")).logits.abs().max().item() for text in TEXTS)
    difference = _max_logit_difference(model, _read_back(path)[0], tokenizer)
    assert 0 < difference < bound * span
    f32_size = write_gguf(model, tokenizer, tmp_path / "f32.gguf", "f32").stat().st_size
    assert path.stat().st_size < 0.6 * f32_size


def test_other_architectures_are_refused(tmp_path: Path, tokenizer) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2))
    with pytest.raises(TuneforgeError, match="architecture 'gpt2': GGUF export supports 'llama' only"):
        write_gguf(gpt2, tokenizer, tmp_path / "x.gguf")
    assert not list(tmp_path.iterdir())


def test_a_split_llama_cpp_cannot_express_is_refused(tmp_path: Path, tokenizer) -> None:
    from tokenizers import pre_tokenizers

    odd = _byte_level_bpe()
    odd.backend_tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    with pytest.raises(TuneforgeError, match="cannot express this tokenizer's pre-tokenizer"):
        write_gguf(_tiny_llama(tokenizer, tied=True), odd, tmp_path / "x.gguf")


def test_cli_exports_a_lora_run(tmp_path: Path, tokenizer) -> None:
    base = tmp_path / "base"
    _tiny_llama(tokenizer, tied=True).save_pretrained(base)
    tokenizer.save_pretrained(base)
    rows = [
        {"messages": [{"role": "user", "content": f"{q} #{n}"}, {"role": "assistant", "content": a}]}
        for n in range(4)
        for q, a in zip(CORPUS[::2], CORPUS[1::2] + CORPUS[:1], strict=True)
    ]
    data = tmp_path / "chats.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    config = tmp_path / "sft.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "task": "causal-lm-sft",
                "model": str(base),
                "method": "lora",
                "data": {"train": str(data), "split": {"validation": 0.2, "test": 0.2, "seed": 1}},
                "train": {"epochs": 1, "batch_size": 4, "lr": 1e-2, "max_length": 64, "seed": 3},
                "sft": {"eval_answers": 1, "report_samples": 1, "generation": {"max_new_tokens": 2}},
                "output_dir": str(tmp_path / "run"),
                "tracking": "none",
            },
            allow_unicode=True,
        )
    )
    runner = CliRunner()
    assert runner.invoke(app, ["train", str(config)], catch_exceptions=False).exit_code == 0
    run = tmp_path / "run"

    result = runner.invoke(app, ["export", str(run), "--gguf", "--outtype", "f32"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    path = run / "model-f32.gguf"
    assert str(path) in "".join(result.output.split())
    tuned = ChatModel.load(run).model.eval()
    base_model = AutoModelForCausalLM.from_pretrained(base).eval()
    loaded = _read_back(path)[0]
    assert _max_logit_difference(tuned, loaded, tokenizer) < 1e-4
    assert _max_logit_difference(base_model, loaded, tokenizer) > 1e-3  # the LoRA weights are in the file

    both = runner.invoke(app, ["export", str(run), "--gguf", "--merge"])
    assert both.exit_code == 2 and "--merge" in both.output


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"task": "text-classification", "method": "lora"}, "GGUF export needs a causal-lm-sft run"),
        ({"task": "causal-lm-sft", "method": "prefix"}, "cannot be merged into a plain model"),
    ],
)
def test_runs_it_cannot_export_are_refused_before_loading(tmp_path: Path, manifest: dict, message: str) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))  # no weights: loading would fail differently
    result = CliRunner().invoke(app, ["export", str(tmp_path), "--gguf"])
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
