"""`tuneforge retrain` for chat SFT: a LoRA champion continues its adapter on corrected and well-rated answers
from the serve store."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from safetensors.torch import load_file

from tuneforge.config.load import load_config
from tuneforge.continual import retrain
from tuneforge.registry import ModelVersions
from tuneforge.serve.db import connect
from tuneforge.serve.feedback import FeedbackStore, LoggedChat
from tuneforge.tasks import load_config as load_checked
from tuneforge.tasks import train


def test_a_round_learns_corrected_and_well_rated_answers(tmp_path: Path, tiny_llama_dir: Path, chats_writer) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    cfg = {
        "task": "causal-lm-sft",
        "model": str(tiny_llama_dir),
        "method": "lora",
        "data": {
            "train": str(chats_writer(tmp_path / "chats.jsonl", range(6))),
            "split": {"validation": 0.15, "test": 0.15, "seed": 1},
        },
        "train": {"epochs": 1, "batch_size": 8, "lr": 3e-3, "max_length": 96, "seed": 3},
        "sft": {"eval_answers": 2, "report_samples": 1, "generation": {"max_new_tokens": 4}},
        "output_dir": str(tmp_path / "runs" / "support"),
        "tracking": "none",
        "continual": {
            "feedback": url,
            "strategy": "replay+lwf",
            "replay": {"size": 12},
            "near_duplicates": None,  # the numbered questions below are near-duplicates of each other
            "gate": {"min_new_rows": 10, "max_forgetting": 10.0, "min_gain": -10.0},
        },
    }
    config = tmp_path / "support.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    run = train(load_checked(config))
    versions = ModelVersions(tmp_path / "models", "support")
    versions.promote(versions.add(run, {"source": str(run)}, copy=True).tag, "first version")

    store = FeedbackStore(connect(url), log_texts=True)
    chats = [
        LoggedChat(f"c{i}", [{"role": "user", "content": f"Can I pay by card? #{i}"}], "maybe") for i in range(30)
    ]
    store.log_predictions("support", "causal-lm-sft", chats)
    for i in range(20):
        store.record(f"c{i}", "key1", answer=f"Yes, we take every card (order {i}).")
    for i in range(20, 30):
        store.record(f"c{i}", "key1", rating=5 if i < 25 else 1)  # five well-rated own answers, five bad ones

    outcome = retrain(load_config(config), champion="support", registry=versions.root)
    assert outcome.status == "promoted", outcome.reasons
    v2 = versions.version("v2")
    assert v2.lineage["gate"]["decision"] == "promote"
    assert versions.rounds()[0]["rows"]["feedback"] == 25  # 20 corrected + 5 rated 5; the rating 1 answers are not
    before = load_file(versions.version("v1").path / "adapter" / "adapter_model.safetensors")
    after = load_file(v2.path / "adapter" / "adapter_model.safetensors")
    assert before.keys() == after.keys() and any((before[k] != after[k]).any() for k in before)
    state = json.loads((v2.path / "continual" / "state.json").read_text())
    assert (
        state["rows"]["history"]
        > json.loads((versions.version("v1").path / "continual" / "state.json").read_text())["rows"]["history"]
    )
