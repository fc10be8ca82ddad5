"""report.md of a tabular run: the families side by side, the threshold, the schema and the plots."""

from __future__ import annotations

from typing import Any

__all__ = ["render_tabular_report"]

_COLUMNS = (
    ("roc_auc", "ROC-AUC"),
    ("accuracy", "accuracy @0.5"),
    ("f1", "F1 @0.5"),
    ("cost_per_row", "cost/row @threshold"),
    ("cost_per_row_bayes", "cost/row @Bayes"),
)


def _cell(metric: dict[str, float]) -> str:
    return f"{metric['mean']:.4f} ± {metric['std']:.4f}"


def _among(results: dict[str, Any]) -> str:
    candidates, models = results["served_candidates"], results["models"]
    if set(candidates) == set(models):
        return ""
    top = max(models, key=lambda key: models[key]["metrics"]["roc_auc"]["mean"])
    return (
        " among the families that may be served (tabular.serve_from: " + ", ".join(candidates) + "; highest of "
        f"all: {models[top]['name']}, {models[top]['metrics']['roc_auc']['mean']:.4f})"
    )


def render_tabular_report(title: str, results: dict[str, Any], plots: dict[str, str]) -> str:
    cost, best = results["cost"], results["best_model"]
    lines = [
        f"# {title}",
        "",
        f"{results['rows']} rows, positive class '{results['positive']}' (the risk event scored), "
        f"{results['folds']}-fold stratified cross-validation (seed {results['seed']}), mean ± std over folds.",
        "",
        "| model | " + " | ".join(label for _, label in _COLUMNS) + " | threshold | fit seconds (all folds) |",
        "|---" * (len(_COLUMNS) + 3) + "|",
    ]
    for key, family in results["models"].items():
        cells = [_cell(family["metrics"][metric]) for metric, _ in _COLUMNS]
        name = f"**{family['name']}**" if key == best else family["name"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {family['threshold']:.3f} | {family['fit_seconds']} |")
    lines += [
        "",
        f"Cost matrix: {cost['false_negative']:g} for a positive row decided negative, {cost['false_positive']:g} "
        "for a negative row decided positive; cost/row is the mean cost per row (lower is better). "
        "*threshold* minimises the cost on the pooled out-of-fold predictions of that model, so cost/row @threshold "
        "is tuned on the folds it is measured on (optimistic); cost/row @Bayes uses the untuned threshold "
        f"{results['bayes_threshold']:.3f} = cost_fp / (cost_fp + cost_fn), right for calibrated probabilities.",
        "",
        f"Best by mean ROC-AUC{_among(results)}: **{results['models'][best]['name']}**, refitted on all rows; "
        "`tuneforge predict` "
        f"serves it with the threshold {results['models'][best]['threshold']:.3f}.",
        "",
        "## Schema",
        "",
        "| column | kind | fill for missing | categories |",
        "|---|---|---|---|",
    ]
    for column in results["schema"]["columns"]:
        categories = ", ".join(column["categories"][:12]) + (" …" if len(column["categories"]) > 12 else "")
        lines.append(f"| {column['name']} | {column['kind']} | {column['fill']} | {categories} |")
    for caption, file in plots.items():
        lines += ["", f"## {caption}", "", f"![{caption}]({file})"]
    return "\n".join(lines) + "\n"
