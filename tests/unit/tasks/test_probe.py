from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from tuneforge.data import Example
from tuneforge.errors import ConfigError
from tuneforge.tasks.text_classification.probe import C_GRID, probe_head
from tuneforge.tasks.text_classification.task import TextClassification, build_classifier

TEXTS = {
    "refund": ["refund my order {n}", "money back for {n}", "I want a refund {n}"],
    "delivery": ["where is parcel {n}", "parcel {n} is late", "track delivery {n}"],
}


def _examples(start: int, per_template: int) -> list[Example]:
    return [
        Example(text=template.format(n=start + i), label=label, source="t.csv", line=i)
        for label, templates in TEXTS.items()
        for template in templates
        for i in range(per_template)
    ]


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_the_head_becomes_the_probe_the_validation_accuracy_says(tiny_model_dir: Path, pooling: str) -> None:
    torch.manual_seed(0)
    labels = list(TEXTS)
    task = TextClassification(AutoTokenizer.from_pretrained(tiny_model_dir), labels, 32, None, pooling)
    model = build_classifier(str(tiny_model_dir), labels, pooling).train()
    before = model.classifier.weight.clone()
    train, validation = _examples(0, 8), _examples(100, 3)
    chosen = probe_head(model, task, train, validation, batch_size=8)
    assert chosen["c"] in C_GRID and not torch.equal(model.classifier.weight, before)
    assert model.training  # left as it was found, ready for the loop
    # The whole model now predicts what the probe did: its validation accuracy is the probe's.
    scores = task.evaluate_examples(model, validation, batch_size=8)
    assert scores["accuracy"] == pytest.approx(chosen["validation_accuracy"])
    assert scores["accuracy"] > 0.5


def test_without_validation_c_is_one(tiny_model_dir: Path) -> None:
    labels = list(TEXTS)
    task = TextClassification(AutoTokenizer.from_pretrained(tiny_model_dir), labels, 32, None)
    model = build_classifier(str(tiny_model_dir), labels)
    assert probe_head(model, task, _examples(0, 4), [], batch_size=8) == {"c": 1.0, "validation_accuracy": None}


def test_other_heads_are_refused(tiny_model_dir: Path) -> None:
    labels = list(TEXTS)
    task = TextClassification(AutoTokenizer.from_pretrained(tiny_model_dir), labels, 32, None)
    model = build_classifier(str(tiny_model_dir), labels)
    model.classifier = torch.nn.Sequential(torch.nn.Linear(32, 2))
    with pytest.raises(ConfigError, match="head_init: probe needs a BERT-style classifier"):
        probe_head(model, task, _examples(0, 2), [], batch_size=8)
