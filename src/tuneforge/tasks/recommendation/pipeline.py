"""`train(cfg)` for task: recommendation: data → split → popularity, ALS and the two-tower LM → one report.

Every model sees the same split. Popularity and ALS are refitted on train + validation before the test, the
two-tower model reads the validation item as part of the user's history at test time; the ALS grid and the
two-tower's best epoch are chosen on validation NDCG@k only.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from rich import get_console

from tuneforge.config import Config
from tuneforge.config.recommend import RecommendConfig
from tuneforge.embedding import encode_texts, load_encoder
from tuneforge.rundir import finish_run, staging_dir, write_inputs, write_json
from tuneforge.tasks.recommendation.baselines import Popularity, fit_mf, select_mf
from tuneforge.tasks.recommendation.data import Catalogue, Interactions, read_catalogue, read_interactions
from tuneforge.tasks.recommendation.encode import embedding_key
from tuneforge.tasks.recommendation.metrics import Case, random_expectation, ranking_metrics
from tuneforge.tasks.recommendation.report import DataSummary, data_summary, write_report
from tuneforge.tasks.recommendation.saved import save_recommender
from tuneforge.tasks.recommendation.split import Split, split_interactions
from tuneforge.tasks.recommendation.tower import (
    TowerScorer,
    TwoTower,
    collate,
    next_item_examples,
    next_item_loss,
    pad_history,
)
from tuneforge.track.mlflow import start_tracking
from tuneforge.training.loop import fit

__all__ = ["train"]


def _settings(cfg: Config) -> RecommendConfig:
    settings = cfg.recommend
    assert settings is not None, "the recommendation row's rules require the block (tasks/recommendation)"
    return settings


def _cases(split: Split, stage: str) -> list[Case]:
    targets = split.validation if stage == "validation" else split.test
    return [(u, split.history(u, stage), t) for u, t in enumerate(targets) if t is not None]


def _item_vectors(cfg: Config, catalogue: Catalogue) -> tuple[np.ndarray, str]:
    """Sentence vectors of every item text, cached beside the run (runs/.embeddings/) by model and texts."""
    key = embedding_key(cfg.model, cfg.train.max_length, catalogue.texts)
    cached = cfg.output_dir.parent / ".embeddings" / f"{key}.npy"
    if cached.is_file():
        return np.load(cached), key
    get_console().print(f"embedding {len(catalogue.texts)} item texts with {cfg.model}")
    encoder, tokenizer = load_encoder(cfg.model)
    batch_size = _settings(cfg).encoder_batch
    vectors = encode_texts(encoder, tokenizer, catalogue.texts, max_length=cfg.train.max_length, batch_size=batch_size)
    vectors = vectors.numpy()
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f"{key}.tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(cached)
    return vectors, key


def _loop_config(cfg: Config, k: int) -> Any:
    # The loop watches early_stopping.metric: ndcg@<k> unless the config names a ranking metric or loss.
    stopping = cfg.train.early_stopping
    if stopping is not None and stopping.metric not in (f"ndcg@{k}", f"recall@{k}", "loss"):
        stopping = stopping.model_copy(update={"metric": f"ndcg@{k}"})
    return cfg.train.model_copy(update={"early_stopping": stopping})


def _fit_tower(
    cfg: Config, split: Split, vectors: np.ndarray, run_dir: Path, resume: bool, tracker: Any
) -> tuple[TwoTower, dict[str, Any]]:
    settings = _settings(cfg)
    warm = np.ones(len(vectors), dtype=bool)
    warm[split.cold_items] = False
    model = TwoTower(vectors, settings.tower, warm)
    scorer = TowerScorer(model, settings.tower.history)
    validation = _cases(split, "validation")

    held_out = collate([{"input_ids": pad_history(h, settings.tower.history), "labels": t} for _, h, t in validation])

    def evaluate(_: torch.nn.Module) -> dict[str, float]:
        scores = ranking_metrics(scorer, validation, settings.k)
        model.eval()
        with torch.inference_mode():
            scores["loss"] = next_item_loss(model, held_out).item()
        model.train()
        return {name: value for name, value in scores.items() if name != "cases"}

    def on_eval(record: dict[str, Any]) -> None:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in record.items() if isinstance(v, float) and k != "lr")
        get_console().print(f"[bold]eval[/] step {record['step']}: {shown}")
        tracker.log_metrics({k: v for k, v in record.items() if k != "step"}, step=record["step"])

    started = time.perf_counter()
    result = fit(
        model,
        next_item_examples(split.train, settings.tower.history, settings.tower.window),
        collate=collate,
        loss_fn=next_item_loss,
        evaluate=evaluate if validation else None,
        cfg=_loop_config(cfg, settings.k),
        ckpt_dir=run_dir / "checkpoints",
        accelerator=Accelerator(cpu=not torch.cuda.is_available()),
        resume=resume,
        on_eval=on_eval,
    )
    summary = {
        "steps": result.state.step,
        "best_step": result.state.best_step,
        "stopped_early": result.stopped_early,
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "train_seconds": round(result.state.train_seconds, 2),
        "fit_seconds": round(time.perf_counter() - started, 2),
        "history": result.state.history,
    }
    return model.eval(), summary


def _compare(
    cfg: Config, split: Split, vectors: np.ndarray, run_dir: Path, resume: bool, tracker: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the three families on one split; return the models to save and every score."""
    settings, seed, n_items = _settings(cfg), cfg.train.seed, len(vectors)
    validation, test = _cases(split, "validation"), _cases(split, "test")
    k, seconds = settings.k, {}
    known = [split.history(u, "test") for u in range(len(split.users))]  # train + validation items

    started = time.perf_counter()
    get_console().print(f"ALS: {len(settings.mf.factors) * len(settings.mf.regularization)} settings on validation")
    (factors, regularization), grid = select_mf(split.train, validation, n_items, settings.mf, k, seed)
    mf = fit_mf(known, n_items, factors, regularization, settings.mf, seed)
    seconds["mf"] = round(time.perf_counter() - started, 2)
    popularity = Popularity.fit(known, n_items)
    model, tower_summary = _fit_tower(cfg, split, vectors, run_dir, resume, tracker)
    seconds["lm"] = tower_summary["fit_seconds"]
    tower = TowerScorer(model, settings.tower.history)
    scores = {
        "validation": {
            "popularity": ranking_metrics(Popularity.fit(split.train, n_items), validation, k),
            "mf": max(grid, key=lambda row: row[f"ndcg@{k}"]),
            "lm": ranking_metrics(tower, validation, k),
        },
        "test": {name: ranking_metrics(m, test, k) for name, m in (("popularity", popularity), ("mf", mf))},
        "mf_grid": grid,
        "tower": tower_summary,
        "seconds": seconds,
    }
    scores["test"]["lm"] = ranking_metrics(tower, test, k)
    scores["cold_start"] = _cold_start(split, tower, popularity, n_items, k)
    return {"tower": model, "popularity": popularity, "mf": mf}, scores


def _cold_start(split: Split, tower: TowerScorer, popularity: Popularity, n_items: int, k: int) -> dict[str, Any]:
    """Rank each held-out item among all held-out items; popularity has no counts for them, so it ties."""
    candidates = np.zeros(n_items, dtype=bool)
    candidates[split.cold_items] = True
    cases = [(c.user, c.history, c.target) for c in split.cold_cases]
    return {
        "items": len(split.cold_items),
        "lm": ranking_metrics(tower, cases, k, candidates),
        "popularity": ranking_metrics(popularity, cases, k, candidates),
        "random": {**random_expectation(len(split.cold_items), k), "cases": len(cases)} if cases else None,
    }


def _read_and_split(cfg: Config) -> tuple[Catalogue, Interactions, Split, DataSummary]:
    settings = _settings(cfg)
    catalogue = read_catalogue(settings, cfg.data.encoding, cfg.data.on_error)
    interactions = read_interactions(cfg.data.train, settings, catalogue, cfg.data.encoding, cfg.data.on_error)
    split = split_interactions(interactions, len(catalogue.ids), settings.cold_fraction, cfg.train.seed)
    return catalogue, interactions, split, data_summary(cfg, catalogue, interactions, split)


def check_data(cfg: Config) -> DataSummary:
    """Validate the item and interaction files and split them, without training."""
    return _read_and_split(cfg)[3]


def train(cfg: Config, *, resume: bool = False) -> Path:
    """Read, split, fit popularity, ALS and the two-tower LM recommender, and write one run directory."""
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    set_seed(cfg.train.seed)
    catalogue, interactions, split, summary = _read_and_split(cfg)
    get_console().print(summary.markdown)
    run_dir = staging_dir(cfg.output_dir, resume=resume)
    write_inputs(run_dir, cfg, summary.counts, summary.markdown, catalogue.rejected + interactions.rejected)

    started = time.perf_counter()
    vectors, key = _item_vectors(cfg, catalogue)
    encode_seconds = round(time.perf_counter() - started, 2)
    tracker = start_tracking(cfg, run_dir)
    try:
        models, results = _compare(cfg, split, vectors, run_dir, resume, tracker)
    except BaseException:
        tracker.end("KILLED")
        raise
    results["seconds"]["encode_items"] = encode_seconds
    results["data"] = summary.counts
    manifest = save_recommender(run_dir, cfg, catalogue, split, vectors, key, models)
    write_json(run_dir / "metrics.json", results)
    write_report(run_dir, cfg, results)
    for name, scores in results["test"].items():
        tracker.log_metrics({f"test_{name}_{m}": v for m, v in scores.items() if isinstance(v, float)})
    finish_run(run_dir, cfg.output_dir, manifest, tracker)
    get_console().print(f"run saved to [bold]{cfg.output_dir}[/] (report.md, metrics.json, model/)")
    return cfg.output_dir
