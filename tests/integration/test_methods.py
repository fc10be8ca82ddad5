"""The method contract: every method trains a few steps on the tiny BERT, writes a complete run dir, reloads with
identical predictions, and merges into a plain model with the same logits where the method allows it."""

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from tuneforge.config import load_config
from tuneforge.errors import RunError
from tuneforge.export import merge_model
from tuneforge.methods import METHODS
from tuneforge.run import check_loop_data
from tuneforge.tasks import train
from tuneforge.tasks.text_classification.estimator import TextClassifier
from tuneforge.tasks.text_classification.task import TextClassification, batched_logits

# method block -> trained share of the tiny BERT's weights at most (its 1M weights are mostly embeddings)
CASES = {
    "full": ({"name": "full"}, 1.0),
    "freeze": ({"name": "freeze", "freeze_layers": 1}, 0.05),
    "bitfit": ({"name": "bitfit"}, 0.01),
    "lora": ({"name": "lora", "r": 4}, 0.02),
    "adalora": ({"name": "adalora", "init_r": 6, "target_r": 2, "prune_every": 1}, 0.02),
    "ia3": ({"name": "ia3"}, 0.01),
    "prefix": ({"name": "prefix", "num_virtual_tokens": 5}, 0.01),
    "prompt": ({"name": "prompt", "num_virtual_tokens": 5}, 0.01),
    "ptuning": ({"name": "ptuning", "num_virtual_tokens": 5, "encoder_hidden_size": 16}, 0.01),
    "adapter": ({"name": "adapter", "style": "houlsby", "reduction_factor": 4}, 0.01),
}


def test_every_method_has_a_case() -> None:
    assert set(CASES) == {name for name, method in METHODS.items() if not method.fits_itself}


@pytest.mark.parametrize("pooling", ["cls", "mean"])
@pytest.mark.parametrize("method", list(CASES))
def test_method_contract(method: str, pooling: str, make_config, tmp_path: Path) -> None:
    block, max_share = CASES[method]
    train_block = {"epochs": 1, "batch_size": 4, "lr": 5e-3, "max_length": 32, "seed": 3}
    config = make_config(method=block, pooling=pooling, train=train_block)
    cfg = load_config(config)
    run = train(cfg)

    metrics = json.loads((run / "metrics.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert all(math.isfinite(record["train_loss"]) for record in metrics["history"])
    assert metrics["train"]["steps"] == 9
    for name in ("report.md", "config.yaml", "confusion_test.png"):
        assert (run / name).is_file(), name
    assert manifest["method"] == method and manifest["method_config"]["name"] == method
    assert manifest["pooling"] == pooling
    folder = run / manifest["saved_dir"]
    assert folder.name == ("model" if method == "full" else "adapter") and (folder / "tokenizer.json").is_file()
    assert manifest["saved_weights_bytes"] == sum(f.stat().st_size for f in folder.glob("*.safetensors")) > 0

    trainable, total = metrics["train"]["trainable_parameters"], metrics["train"]["total_parameters"]
    assert 0 < trainable <= max_share * total
    if method != "full":  # only what was trained is saved: about 4 bytes per trained weight
        assert manifest["saved_weights_bytes"] < 4 * trainable + 200_000 < 4 * total / 2

    # Reloaded from disk (base + adapter), the model scores the test split exactly as the trained one did.
    classifier = TextClassifier.load(run)
    test = check_loop_data(cfg, TextClassification).test
    again = classifier.task.evaluate_examples(classifier.model, test, batch_size=16)
    assert again["confusion"] == metrics["test"]["confusion"]
    assert again["loss"] == pytest.approx(metrics["test"]["loss"], abs=1e-5)

    texts = [e.text for e in test]
    merged_dir = tmp_path / "merged"
    if METHODS[method].cannot_merge:
        with pytest.raises(RunError, match="cannot be merged"):
            merge_model(classifier.model, classifier.task.tokenizer, method, merged_dir)
        return
    features = classifier.task.encode(texts)
    before = _logits(classifier.model, features, classifier.task.pad_id)
    merge_model(classifier.model, classifier.task.tokenizer, method, merged_dir)
    plain = AutoModelForSequenceClassification.from_pretrained(merged_dir)
    assert not (merged_dir / "adapter_config.json").exists()
    assert torch.allclose(_logits(plain, features, classifier.task.pad_id), before, atol=1e-4)


def _logits(model: torch.nn.Module, features: list, pad_id: int) -> torch.Tensor:
    out = torch.zeros(len(features), model.config.num_labels)
    for indices, _, logits in batched_logits(model, features, pad_id=pad_id, batch_size=8):
        out[indices] = logits
    return out


@pytest.mark.parametrize("method", ["full", "lora"])
def test_probe_started_head_trains_and_reloads(method: str, make_config) -> None:
    block = CASES[method][0]
    train_block = {"epochs": 1, "batch_size": 4, "lr": 5e-3, "max_length": 32, "seed": 3}
    cfg = load_config(make_config(method=block, head_init="probe", pooling="mean", train=train_block))
    run = train(cfg)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train"]["head_init"]["c"] in (0.1, 1.0, 10.0)
    classifier = TextClassifier.load(run)
    test = check_loop_data(cfg, TextClassification).test
    again = classifier.task.evaluate_examples(classifier.model, test, batch_size=16)
    assert again["confusion"] == metrics["test"]["confusion"]
