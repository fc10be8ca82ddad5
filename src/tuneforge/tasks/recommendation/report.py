"""The data summary and the one report comparing popularity, ALS and the LM recommender, with its charts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneforge.config import Config
from tuneforge.evaluate.plots import plot_comparison, plot_learning_curve
from tuneforge.rundir import write_text
from tuneforge.tasks.recommendation.data import Catalogue, Interactions
from tuneforge.tasks.recommendation.split import Split

__all__ = ["DataSummary", "data_summary", "write_report"]

_NAMES = {"popularity": "popularity", "mf": "ALS matrix factorisation", "lm": "LM two-tower (MiniLM text)"}


@dataclass(frozen=True)
class DataSummary:
    """What the data check found; `render()` shows it in the terminal like the other tasks' data reports."""

    counts: dict[str, Any]
    markdown: str

    def render(self) -> Any:
        from rich.markdown import Markdown

        return Markdown(self.markdown)


def data_summary(cfg: Config, catalogue: Catalogue, interactions: Interactions, split: Split) -> DataSummary:
    counts = {
        "items_file": str(cfg.recommend.items),
        "interactions_file": str(cfg.data.train),
        "items": len(catalogue.ids),
        "item_rows_rejected": len(catalogue.rejected),
        "interaction_rows": interactions.rows_read,
        "interaction_problems": len(interactions.rejected),
        "below_min_rating": interactions.below_min_rating,
        "repeat_interactions_dropped": interactions.duplicates_dropped,
        "interactions": len(interactions.users),
        "users": len(split.users),
        "users_evaluated": sum(t is not None for t in split.test),
        "held_out_items": len(split.cold_items),
        "cold_start_cases": len(split.cold_cases),
    }
    lines = ["# Data", "", "| | |", "|---|---|", *(f"| {k.replace('_', ' ')} | {v} |" for k, v in counts.items())]
    return DataSummary(counts, "\n".join(lines) + "\n")


def _table(scores: dict[str, dict[str, Any]], k: int) -> list[str]:
    rows = [f"| model | Recall@{k} | NDCG@{k} | cases |", "|---|---|---|---|"]
    for name, value in scores.items():
        if value is None:
            continue
        recall, ndcg = value[f"recall@{k}"], value[f"ndcg@{k}"]
        rows.append(f"| {_NAMES.get(name, name)} | {recall:.4f} | {ndcg:.4f} | {value.get('cases', '')} |")
    return rows


def write_report(run_dir: Path, cfg: Config, results: dict[str, Any]) -> None:
    k = cfg.recommend.k
    cold = results["cold_start"]
    chosen = results["validation"]["mf"]
    lines = [
        f"# recommendation: {cfg.output_dir.name}",
        "",
        f"Leave-last-out by time; Recall@{k} and NDCG@{k} against every item the user has not seen (no sampling).",
        "",
        "## Test",
        *_table(results["test"], k),
        "",
        "## Validation (model selection)",
        *_table(results["validation"], k),
        "",
        f"ALS chosen on validation: {chosen['factors']} factors, regularization {chosen['regularization']}.",
        "",
        f"## Cold start: {cold['items']} items held out of training, ranked among themselves from text alone",
        *_table({"lm": cold["lm"], "random": cold["random"], "popularity (all ties)": cold["popularity"]}, k),
        "",
        f"Seconds: {results['seconds']}",
        "",
        "![comparison](comparison.png)",
        "",
        "![learning curve](learning_curve.png)",
    ]
    rows = [
        {"method": _NAMES[name], "recall": scores[f"recall@{k}"], "ndcg": scores[f"ndcg@{k}"]}
        for name, scores in results["test"].items()
    ]
    plot_comparison(rows, {"recall": f"Recall@{k}", "ndcg": f"NDCG@{k}"}, run_dir / "comparison.png", "test")
    if results["tower"]["history"]:
        plot_learning_curve(results["tower"]["history"], run_dir / "learning_curve.png", f"ndcg@{k}")
    write_text(run_dir / "report.md", "\n".join(lines) + "\n")
