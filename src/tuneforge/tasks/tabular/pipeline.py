"""`train(cfg)` for task tabular-classification: validate → cross-validate every family → refit the best →
importance, plots, report, MLflow → the run directory, swapped into place only when everything is written.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich import get_console

from tuneforge.config import Config
from tuneforge.config.tabular import TabularConfig
from tuneforge.rundir import finish_run, staging_dir, write_inputs, write_json, write_text
from tuneforge.tasks.tabular.cv import FamilyResult, cross_validate, fold_indices
from tuneforge.tasks.tabular.data import TrainingData, check_tabular_config, load_training
from tuneforge.tasks.tabular.families import make_family
from tuneforge.tasks.tabular.plots import plot_calibration, plot_importance
from tuneforge.tasks.tabular.report import render_tabular_report
from tuneforge.tasks.tabular.scoring import permutation_importances
from tuneforge.track.mlflow import start_tracking

__all__ = ["train"]


def train(cfg: Config, *, resume: bool = False) -> Path:
    """Compare the configured model families by cross-validation and save the best one; returns the run dir."""
    tabular = check_tabular_config(cfg)
    if cfg.train.threads:  # the language model's threads, as in text classification
        torch.set_num_threads(cfg.train.threads)
    data = load_training(cfg)
    get_console().print(data.report.render())
    run_dir = staging_dir(cfg.output_dir, resume=resume)
    _write_inputs(run_dir, cfg, data)
    tracker = start_tracking(cfg, run_dir)
    try:
        started = time.perf_counter()
        families = cross_validate(cfg, data, run_dir / "cv")
        best = max(
            tabular.serve_from or families, key=lambda name: families[name].summary()["metrics"]["roc_auc"]["mean"]
        )
        importances = _importances(cfg, data, families[best])
        final = make_family(best, data.schema, cfg).fit(data.parsed.frame, data.parsed.labels)
        final.save(run_dir / "model")
        seconds = time.perf_counter() - started
    except BaseException:
        tracker.end("KILLED")  # a --resume continues this MLflow run and reuses the finished folds
        raise
    results = _results(cfg, tabular, data, families, best, importances, seconds)
    plots = _plots(run_dir, families, importances, best, data)
    write_json(run_dir / "metrics.json", results)
    write_text(
        run_dir / "report.md", render_tabular_report(f"tabular-classification: {cfg.output_dir.name}", results, plots)
    )
    for key, family in results["models"].items():
        tracker.log_metrics({f"{key}_{m}_{s}": v[s] for m, v in family["metrics"].items() for s in ("mean", "std")})
    finish_run(run_dir, cfg.output_dir, _manifest(cfg, data, best, families[best].threshold), tracker)
    _print_summary(cfg.output_dir, results)
    return cfg.output_dir


def _importances(cfg: Config, data: TrainingData, best: FamilyResult) -> dict[str, dict[str, float]]:
    """Permutation importance of the best family on the first fold's held-out rows, by the model that did not
    see them (refitted when a resumed run has no such model in memory)."""
    tabular = cfg.tabular or TabularConfig()
    frame, y = data.parsed.frame, data.parsed.labels
    assert y is not None
    train_rows, held_rows = fold_indices(y, tabular)[0]
    model = best.first_fold_model
    if model is None:
        model = make_family(best.key, data.schema, cfg).fit(frame.iloc[train_rows], y[train_rows])
    held = frame.iloc[held_rows].reset_index(drop=True)
    return permutation_importances(model.predict_proba, held, y[held_rows], tabular.importance_repeats, tabular.seed)


def _results(
    cfg: Config,
    tabular: TabularConfig,
    data: TrainingData,
    families: dict[str, FamilyResult],
    best: str,
    importances: dict[str, dict[str, float]],
    seconds: float,
) -> dict[str, Any]:
    cost = tabular.cost
    return {
        "rows": len(data.parsed.frame),
        "positive": data.schema.positive,
        "classes": data.schema.classes,
        "folds": tabular.folds,
        "seed": tabular.seed,
        "cost": cost.model_dump(),
        "bayes_threshold": cost.false_positive / (cost.false_positive + cost.false_negative),
        "best_model": best,
        "served_candidates": tabular.serve_from or tabular.models,
        "models": {name: result.summary() for name, result in families.items()},
        "permutation_importance": {"model": best, "metric": "roc_auc", "columns": importances},
        "schema": data.schema.to_dict(),
        "seconds": round(seconds, 1),
    }


def _plots(
    run_dir: Path,
    families: dict[str, FamilyResult],
    importances: dict[str, dict[str, float]],
    best: str,
    data: TrainingData,
) -> dict[str, str]:
    from sklearn.calibration import calibration_curve

    y = data.parsed.labels
    curves = {}
    for result in families.values():
        observed, predicted = calibration_curve(y, result.out_of_fold, n_bins=10, strategy="quantile")
        curves[result.name] = (predicted, observed)
    plot_calibration(curves, run_dir / "calibration.png", "Calibration (out-of-fold predictions)")
    plot_importance(importances, run_dir / "importance.png", f"Permutation importance: {families[best].name}")
    return {
        "Calibration curves": "calibration.png",
        f"Permutation importance ({families[best].name})": "importance.png",
    }


def _write_inputs(run_dir: Path, cfg: Config, data: TrainingData) -> None:
    write_inputs(run_dir, cfg, data.report.to_dict(), data.report.to_markdown(), data.parsed.errors)
    write_json(run_dir / "schema.json", data.schema.to_dict())


def _manifest(cfg: Config, data: TrainingData, best: str, threshold: float) -> dict[str, Any]:
    import sklearn

    return {
        "task": cfg.task,
        "model_family": best,
        "base_model": cfg.model if best == "lm" else None,
        "classes": data.schema.classes,
        "positive": data.schema.positive,
        "threshold": threshold,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": {"torch": torch.__version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__},
    }


def _print_summary(run_dir: Path, results: dict[str, Any]) -> None:
    console = get_console()
    for key, family in results["models"].items():
        m = family["metrics"]
        console.print(
            f"[bold]{family['name']}[/]: ROC-AUC {m['roc_auc']['mean']:.4f} ± {m['roc_auc']['std']:.4f}, "
            f"cost/row {m['cost_per_row']['mean']:.4f} at threshold {family['threshold']:.3f}"
            + (" [green](best)[/]" if key == results["best_model"] else "")
        )
    console.print(f"run saved to [bold]{run_dir}[/] (report.md, metrics.json, model/)")
