"""`tuneforge retrain` for NER: a round learns a new entity type from corrected spans; the known tags keep their
head rows."""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml

from tuneforge.config.load import load_config
from tuneforge.continual import retrain
from tuneforge.registry import ModelVersions
from tuneforge.tasks import load_config as load_checked
from tuneforge.tasks import train

VALUES = {
    "PER": ["张伟", "王芳", "John Smith", "Anna Lee"],
    "CITY": ["北京", "上海", "Paris"],
    "ORG": ["京东", "ACME"],
}
TEMPLATES = ["{PER}在{CITY}下单了 {n}", "{PER} flew to {CITY} today {n}.", "{PER} works at {ORG} in {CITY} {n}"]


def _records(rng: random.Random, n: int, start: int, types: set[str]) -> list[dict]:
    records = []
    for i in range(n):
        template = rng.choice([t for t in TEMPLATES if ("{ORG}" in t) == ("ORG" in types)])
        text, entities = "", []
        for piece in template.replace("}", "}|").replace("{", "|{").split("|"):
            if piece == "{n}":
                piece = str(start + i)
            elif piece.startswith("{"):
                kind = piece[1:-1]
                piece = rng.choice(VALUES[kind])
                entities.append({"start": len(text), "end": len(text) + len(piece), "label": kind})
            text += piece
        records.append({"text": text, "entities": entities})
    return records


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_a_round_adds_an_entity_type(tmp_path: Path, tiny_model_dir: Path) -> None:
    rng = random.Random(0)
    data = _write(tmp_path / "ner.jsonl", _records(rng, 60, 0, {"PER", "CITY"}))
    cfg = {
        "task": "token-classification",
        "model": str(tiny_model_dir),
        "data": {"train": str(data), "split": {"validation": 0.2, "test": 0.2}},
        "train": {"epochs": 2, "batch_size": 8, "lr": 3e-3, "max_length": 32, "seed": 3},
        "output_dir": str(tmp_path / "runs" / "ner"),
        "tracking": "none",
        "continual": {
            "feedback": str(tmp_path / "feedback.jsonl"),
            "strategy": "replay+lwf",
            "replay": {"size": 30},
            "gate": {
                "min_new_rows": 10,
                "max_forgetting": 1.0,
                "max_class_drop": 1.0,
                "min_gain": -1.0,
                "max_label_noise": 1.0,  # a tiny random model: its agreement with labels says nothing
            },
        },
    }
    config = tmp_path / "ner.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    run = train(load_checked(config))
    versions = ModelVersions(tmp_path / "models", "ner")
    versions.promote(versions.add(run, {"source": str(run)}, copy=True).tag, "first version")
    feedback = _records(rng, 30, 1000, {"PER", "CITY", "ORG"}) + _records(rng, 10, 2000, {"PER", "CITY"})
    _write(tmp_path / "feedback.jsonl", [{"text": r["text"], "entities": r["entities"]} for r in feedback])
    outcome = retrain(load_config(config), champion="ner", registry=versions.root)
    assert outcome.status == "promoted", outcome.reasons
    v2 = versions.version("v2")
    tags = json.loads((v2.path / "manifest.json").read_text())["labels"]
    assert tags == ["O", "B-CITY", "I-CITY", "B-PER", "I-PER", "B-ORG", "I-ORG"]
    scores = v2.lineage["evaluation"]["challenger"]["round_test"]
    assert scores["metric"] == "entity_f1" and "ORG" in scores["per_class"]
