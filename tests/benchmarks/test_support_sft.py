"""Issue 6, bar 1: LoRA on the bundled support Q&A teaches SmolLM2 the shop's policies (slow: ~10-20 min on
2 cores). Also checks that the dequantised GGUF cache gives the GGUF model's own logits.

make test-slow
"""

import json
from pathlib import Path

import pytest
import torch

from tuneforge.config import load_config
from tuneforge.tasks import train

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_cached_dequantised_model_equals_the_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneforge.gguf_cache import hf_dir
    from tuneforge.models import pretrained_args, resolve_model

    monkeypatch.setenv("TUNEFORGE_CACHE", str(tmp_path))
    gguf = resolve_model("smollm2")
    cached = hf_dir(gguf)
    assert cached.startswith(str(tmp_path)) and hf_dir(gguf) == cached  # the second call reuses it
    folder, kwargs = pretrained_args(gguf)
    ids = AutoTokenizer.from_pretrained(cached)("退货期限是多久? How long is delivery?", return_tensors="pt")[
        "input_ids"
    ]
    with torch.no_grad():
        expected = AutoModelForCausalLM.from_pretrained(folder, **kwargs)(ids).logits
        assert torch.allclose(AutoModelForCausalLM.from_pretrained(cached)(ids).logits, expected, atol=1e-5)


def test_support_demo_bar_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the config names the data relative to the repo root
    cfg = load_config(REPO / "configs" / "support-sft.yaml", [f"output_dir={tmp_path / 'run'}", "tracking=none"])
    metrics = json.loads((train(cfg) / "metrics.json").read_text())
    test = metrics["test"]
    assert test["rouge_l"] >= test["base_rouge_l"] + 10
    assert test["loss"] <= 0.7 * test["base_loss"]
    # The shop's policies appear in the tuned answers, never in the base model's.
    policies = ("15", "400-820-3366", "3-5", "199", "枫叶积分", "Maple Points")
    tuned = " ".join(s["tuned"] for s in test["samples"])
    base = " ".join(s["base"] for s in test["samples"])
    assert any(p in tuned for p in policies) and "400-820-3366" not in base
