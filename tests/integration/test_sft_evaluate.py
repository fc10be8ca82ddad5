"""`tuneforge evaluate` on a causal-lm-sft run (tiny Llama + LoRA): the scores training gives its test file,
the evaluation directory, other chat formats, and file:line errors for bad rows."""

import json
import math
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tuneforge.cli import app
from tuneforge.config import load_config
from tuneforge.errors import DataError
from tuneforge.tasks import load, train

runner = CliRunner()


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path, chats_writer) -> tuple[Path, Path]:
    """A LoRA run trained with an explicit test file (questions #5-#6, none seen in training), and that file."""
    folder = tmp_path_factory.mktemp("sft-eval")
    cfg = {
        "task": "causal-lm-sft",
        "model": str(tiny_llama_dir),
        "method": "lora",
        "data": {
            "train": str(chats_writer(folder / "train.jsonl", range(5))),
            "test": str(chats_writer(folder / "test_chats.jsonl", range(5, 7))),
            "split": {"validation": 0.1, "seed": 1},
        },
        "train": {"epochs": 2, "batch_size": 8, "lr": 3e-3, "max_length": 160, "seed": 3, "threads": 1},
        "sft": {"eval_answers": 3, "report_samples": 2, "generation": {"max_new_tokens": 6}},
        "output_dir": str(folder / "runs" / "sft"),
        "tracking": "none",
    }
    config = folder / "sft.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return train(load_config(config)), folder / "test_chats.jsonl"


def test_evaluate_gives_training_test_scores(sft_run: tuple[Path, Path]) -> None:
    run, test_file = sft_run
    result = runner.invoke(app, ["evaluate", str(run), "--data", str(test_file)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "tuned" in result.output and "base" in result.output
    out = run / "evaluations" / "test_chats"
    evaluated = json.loads((out / "metrics.json").read_text())["test"]
    trained = json.loads((run / "metrics.json").read_text())["test"]
    assert evaluated["size"] == 12 and evaluated["answered"] == 3 and evaluated["rejected_rows"] == []
    assert math.isfinite(evaluated["loss"]) and evaluated["perplexity"] == pytest.approx(math.exp(evaluated["loss"]))
    # The same file scored by training's test evaluation and by evaluate: the same numbers and answers.
    for key in ("loss", "base_loss", "rouge_l", "base_rouge_l", "exact_match"):
        assert evaluated[key] == pytest.approx(trained[key], rel=1e-6), key
    assert evaluated["samples"] == trained["samples"]
    report = (out / "report.md").read_text()
    assert report.startswith("# evaluation on test_chats.jsonl") and "Answers side by side (test" in report


def test_evaluate_reads_csv_question_answer(sft_run: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = sft_run
    data = tmp_path / "faq.csv"
    data.write_text("question,answer\n退货期限是多久?,签收后15天内可以申请退货。\nWhen will it arrive?,In 3-5 days.\n")
    results = load(run).evaluate_file(data)
    assert results["size"] == 2 and results["answered"] == 2
    assert 0 <= results["rouge_l"] <= 100 and math.isfinite(results["base_perplexity"])
    assert (run / "evaluations" / "faq" / "report.md").is_file()


def test_bad_rows_give_file_line_errors(sft_run: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = sft_run
    data = tmp_path / "bad.jsonl"
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    data.write_text(
        json.dumps(good) + "\n" + '{"messages": [{"role": "bot", "content": "hi"}]}\n' + '{"question": "no answer"}\n'
    )
    with pytest.raises(DataError) as caught:
        load(run).evaluate_file(data)
    problems = "\n".join(caught.value.problems)
    assert f"{data}:2: field 'messages[0].role': unknown role 'bot'" in problems
    assert f"{data}:3: field 'answer'" in problems
    result = runner.invoke(app, ["evaluate", str(run), "--data", str(data)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{data}:2:" in "".join(result.output.split())  # rich wraps long lines at spaces
    assert not (run / "evaluations" / "bad").exists()
