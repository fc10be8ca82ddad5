"""Long phases show progress: a bar on a terminal, plain lines with an ETA in logs (pytest's captured output)."""

from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from tuneforge.data import Example
from tuneforge.tasks.causal_lm_sft.task import CausalLMSft
from tuneforge.tasks.text_classification.probe import probe_head
from tuneforge.tasks.text_classification.task import TextClassification, build_classifier
from tuneforge.training import progress as progress_module
from tuneforge.training.progress import TrainProgress, progress

EXAMPLES = [
    Example(text=f"order {i} refund please", label="refund", source="t.csv", line=i + 2) for i in range(10)
] + [Example(text=f"where is parcel {i} now", label="delivery", source="t.csv", line=i + 12) for i in range(10)]


def test_a_phase_logs_its_start_progress_and_end(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(progress(range(20), 20, "scoring")) == list(range(20))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "scoring: 0/20…"
    assert "scoring: 2/20 eta " in lines[1]
    assert lines[-1].startswith("scoring: 20/20 done in ")


def test_other_processes_print_nothing(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    assert list(progress([1, 2], 2, "scoring")) == [1, 2]
    assert capsys.readouterr().out == ""


def test_slow_steps_still_get_an_eta(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Steps of 40 s each (chat SFT on a CPU) used to leave rich's 30 s speed window with one sample: "eta ?".
    clock = iter(range(0, 10_000, 40))
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: float(next(clock)))
    with TrainProgress(20, 0) as bar:
        for step in range(1, 3):
            bar.update(step, loss=1.0)
    out = capsys.readouterr().out
    assert "train step 1/20 loss 1.0000 eta " in out and "eta ?" not in out


def test_probe_and_final_evaluation_show_progress(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    task = TextClassification(AutoTokenizer.from_pretrained(tiny_model_dir), ["refund", "delivery"], 16, None)
    model = build_classifier(str(tiny_model_dir), task.labels)
    probe_head(model, task, EXAMPLES, EXAMPLES[::2], batch_size=4)
    out = capsys.readouterr().out
    assert "probe: features of train (20 texts): 0/" in out and "probe: fitting the head" in out
    task.evaluate_examples(model, EXAMPLES, batch_size=4)
    assert "evaluating 20 texts: 5/5 done in" in capsys.readouterr().out


def test_sft_answers_come_in_input_order_with_progress(capsys: pytest.CaptureFixture[str]) -> None:
    class EchoChat:
        def generate_batch(self, chats: list, *, batch_size: int) -> list[str]:
            assert len(chats) <= batch_size
            return [chat[-1]["content"].upper() for chat in chats]

    prompts = [[{"role": "user", "content": "q" * n}] for n in (1, 5, 3, 2, 4)]
    answers = CausalLMSft._answers(EchoChat(), prompts, "tuned", 2)  # type: ignore[arg-type]
    assert answers == ["Q" * n for n in (1, 5, 3, 2, 4)]
    assert "tuned model: answering 5 questions: 3/3 done" in capsys.readouterr().out
