"""report.md of a run: headline metrics, per-class table, confusion matrices and the training history."""

from __future__ import annotations

from typing import Any

__all__ = ["markdown_table", "render_report"]


def markdown_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def cell(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def render_report(title: str, metrics: dict[str, Any], *, plots: dict[str, str] | None = None) -> str:
    """Markdown for `metrics.json`'s content; `plots` maps captions to PNG file names beside the report."""
    splits = [s for s in ("validation", "test") if s in metrics]
    headline = [{"split": s, **{k: v for k, v in metrics[s].items() if isinstance(v, float)}} for s in splits]
    parts = [
        f"# {title}",
        "",
        "## Metrics",
        "",
        markdown_table(headline, ["split", "accuracy", "macro_f1", "weighted_f1", "loss"]),
    ]
    for split in splits:
        parts += [
            "",
            f"## Per class ({split})",
            "",
            markdown_table(metrics[split]["per_class"], ["label", "precision", "recall", "f1", "support"]),
        ]
        if by_script := metrics[split].get("by_script"):
            parts += [
                "",
                f"## By script ({split})",
                "",
                markdown_table(by_script, ["script", "accuracy", "macro_f1", "size"]),
            ]
    if train := metrics.get("train"):
        parts += ["", "## Training", "", markdown_table([train], list(train))]
    if history := metrics.get("history"):
        columns = ["step", "epoch", "train_loss", "loss", "accuracy", "macro_f1"]
        parts += ["", "## Evaluations during training", "", markdown_table(history, columns)]
    for caption, file in (plots or {}).items():
        parts += ["", f"## {caption}", "", f"![{caption}]({file})"]
    return "\n".join(parts) + "\n"
