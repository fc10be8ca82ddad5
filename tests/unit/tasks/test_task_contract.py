"""Every task that trains through the shared loop keeps the contract run.py relies on (train/task.py)."""

import math
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from tuneforge.config.sft import SftConfig
from tuneforge.data import Example
from tuneforge.tasks import TASKS
from tuneforge.tasks.causal_lm_sft.chats import Conversation
from tuneforge.tasks.causal_lm_sft.task import CausalLMSft
from tuneforge.tasks.text_classification.task import TextClassification
from tuneforge.tasks.token_classification.tags import TaggedText
from tuneforge.tasks.token_classification.task import TokenClassification, tag_set
from tuneforge.training.task import LoopTask

CASES = {
    "text-classification": (
        lambda tok: TextClassification(tok, ["refund", "delivery"], 32, None),
        [Example("我要退款", "refund", "a.csv", 2), Example("where is my parcel", "delivery", "a.csv", 3)],
    ),
    "token-classification": (
        lambda tok: TokenClassification(tok, tag_set(["PER", "CITY"]), 12, 2),
        [
            TaggedText.from_words(list("张伟在北京"), ["B-PER", "I-PER", "O", "B-CITY", "I-CITY"], "a.conll", 1),
            TaggedText.from_words(
                "Anna Lee flew to New York from Paris again".split(),
                ["B-PER", "I-PER", "O", "O", "B-CITY", "I-CITY", "O", "B-CITY", "O"],
                "a.conll",
                7,
            ),
        ],
    ),
    "causal-lm-sft": (
        lambda tok: CausalLMSft(
            tok, 64, SftConfig(eval_answers=2, generation={"max_new_tokens": 4}), tok.name_or_path
        ),
        [
            Conversation(
                ({"role": "user", "content": "退货?"}, {"role": "assistant", "content": "15天内"}), "a.jsonl", 1
            ),
            Conversation(
                ({"role": "user", "content": "Delivery?"}, {"role": "assistant", "content": "3-5 days"}), "a.jsonl", 2
            ),
        ],
    ),
}
MODEL_FIXTURES = {"causal-lm-sft": "tiny_llama_dir"}  # the others: tiny_model_dir (BERT)


LOOP_TASKS = {"text-classification": TextClassification, "token-classification": TokenClassification}
LOOP_TASKS["causal-lm-sft"] = CausalLMSft


def test_every_loop_task_has_a_case() -> None:
    assert set(CASES) == set(LOOP_TASKS)
    assert all(LOOP_TASKS[name].main_metric == TASKS[name].main_metric for name in CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_task_trains_and_evaluates(name: str, request: pytest.FixtureRequest) -> None:
    tiny_model_dir: Path = request.getfixturevalue(MODEL_FIXTURES.get(name, "tiny_model_dir"))
    make, examples = CASES[name]
    task = make(AutoTokenizer.from_pretrained(tiny_model_dir))
    assert isinstance(task, LOOP_TASKS[name])
    members = {m for m in vars(LoopTask) if not m.startswith("_")} | set(LoopTask.__annotations__)
    assert not [m for m in members if not hasattr(task, m)]
    model = task.build_model(str(tiny_model_dir))
    if task.labels:  # a classifier's head; a causal LM has none
        assert [model.config.id2label[i] for i in range(model.config.num_labels)] == task.labels
    features = task.encode_examples(examples)
    loss = task.loss(model, task.collate(features))
    loss.backward()
    assert math.isfinite(loss.item()) and any(p.grad is not None for p in model.parameters())
    scores = task.evaluate(model, features, batch_size=2, accelerator=None)
    assert task.main_metric in scores and all(isinstance(v, float) for v in scores.values())
    full = task.evaluate_examples(model, examples, batch_size=2)
    assert full["size"] == 2 and task.headline(full)
    assert "# t" in task.render_report("t", {"test": full}) and task.manifest()["labels"] == task.labels
    with torch.inference_mode():
        assert task.evaluate(model, features, batch_size=1, accelerator=None) == pytest.approx(scores)
