"""causal-lm-sft end to end on a tiny Llama: train (LoRA, and full with packing), generate, export --merge."""

import json
from pathlib import Path

import pytest
import torch
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.tasks.causal_lm_sft.chat_model import ChatModel

runner = CliRunner()


@pytest.fixture
def sft_config(tmp_path: Path, tiny_llama_dir: Path, chats_writer):
    """`sft_config(name, method, packing)`: a config file training the tiny Llama on 48 support chats."""

    def make(name: str, method: str, packing: bool) -> Path:
        cfg = {
            "task": "causal-lm-sft",
            "model": str(tiny_llama_dir),
            "method": method,
            "data": {
                "train": str(chats_writer(tmp_path / "chats.jsonl", range(8))),
                "split": {"validation": 0.15, "test": 0.15, "seed": 1},
            },
            "train": {"epochs": 2, "batch_size": 8, "lr": 3e-3, "max_length": 96, "seed": 3, "packing": packing},
            "sft": {"eval_answers": 4, "report_samples": 2, "generation": {"max_new_tokens": 8}},
            "output_dir": str(tmp_path / "runs" / name),
            "tracking": "none",
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
        return path

    return make


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize(("method", "packing"), [("lora", False), ("full", True)])
def test_train_generate_export(tmp_path: Path, sft_config, method: str, packing: bool) -> None:
    result = _invoke("train", sft_config(method, method, packing))
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / method
    metrics = json.loads((run / "metrics.json").read_text())
    test = metrics["test"]
    for key in ("loss", "perplexity", "rouge_l", "exact_match", "base_loss", "base_rouge_l", "loss_reduction"):
        assert isinstance(test[key], float), key
    assert test["loss"] < test["base_loss"]  # lr 3e-3 on a repeated set: the tuned model must have learned
    assert len(test["samples"]) == 2 and {"question", "reference", "base", "tuned"} <= set(test["samples"][0])
    assert "Answers side by side (test" in (run / "report.md").read_text()
    assert (run / ("adapter" if method == "lora" else "model")).is_dir()

    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": 1, "question": "退货期限是多久?"}\n{"id": 2, "question": "When will it arrive?"}\n')
    answers = tmp_path / "a.jsonl"
    assert _invoke("generate", run, "--input", questions, "--output", answers, "--max-new-tokens", "5").exit_code == 0
    rows = [json.loads(line) for line in answers.read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 2] and all(isinstance(r["answer"], str) for r in rows)

    predicted = _invoke("predict", run, "--text", "退货期限是多久?")
    assert predicted.exit_code == 0 and "answer" in predicted.output
    via_predict = tmp_path / "p.jsonl"
    assert _invoke("predict", run, "--input", questions, "--output", via_predict).exit_code == 0
    assert [json.loads(line)["id"] for line in via_predict.read_text().splitlines()] == [1, 2]
    evaluated = runner.invoke(app, ["evaluate", str(run), "--data", str(questions)])  # questions without answers
    assert evaluated.exit_code == 2 and f"{questions}:1:field'answer':missing" in "".join(evaluated.output.split())

    chat = runner.invoke(app, ["chat", str(run), "--max-new-tokens", "4"], input="退货期限是多久?\n/reset\nhi\n\n")
    assert chat.exit_code == 0, chat.output
    assert chat.output.count("bot>") == 2

    result = _invoke("export", run, "--merge")
    assert result.exit_code == 0, result.output
    merged = AutoModelForCausalLM.from_pretrained(run / "merged").eval()
    unmerged = ChatModel.load(run).model.eval()
    ids = AutoTokenizer.from_pretrained(run / "merged")("签收后15天内 refund", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, unmerged(ids).logits, atol=1e-4)
    assert not list((run / "merged").glob("adapter*"))


def test_bad_chat_file_gives_file_line_errors(tmp_path: Path, sft_config) -> None:
    config = sft_config("bad", "lora", False)
    data = tmp_path / "chats.jsonl"
    with data.open("a", encoding="utf-8") as handle:
        handle.write('{"messages": [{"role": "bot", "content": "hi"}]}\n')
    result = runner.invoke(app, ["data", "check", str(config)])
    assert result.exit_code == 1
    flat = "".join(result.output.split())  # rich wraps long lines at spaces
    assert "".join(f"{data}:49: field 'messages[0].role': unknown role 'bot'".split()) in flat
