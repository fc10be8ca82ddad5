"""report.md of a NER run: entity-level scores per type, the token-level report, errors and training history."""

from __future__ import annotations

from typing import Any

from tuneforge.evaluate.report import markdown_table

__all__ = ["render_ner_report"]

_HEADLINE = [
    "split",
    "entity_f1",
    "entity_precision",
    "entity_recall",
    "entity_macro_f1",
    "token_accuracy",
    "token_macro_f1",
    "loss",
]


def render_ner_report(title: str, metrics: dict[str, Any], *, plots: dict[str, str] | None = None) -> str:
    """Markdown for a NER `metrics.json`; `plots` maps captions to PNG file names beside the report."""
    splits = [s for s in ("validation", "test") if s in metrics]
    headline = [{"split": s, **metrics[s]} for s in splits]
    parts = [
        f"# {title}",
        "",
        "Entity scores are seqeval's, strict IOB2: an entity counts when its type and both boundaries are right.",
        "",
        "## Metrics",
        "",
        markdown_table(headline, _HEADLINE),
    ]
    for split in splits:
        result = metrics[split]
        parts += ["", f"## Entities per type ({split})", ""]
        parts.append(markdown_table(result["per_type"], ["label", "precision", "recall", "f1", "support"]))
        parts += ["", f"## Token-level report ({split}, one row per tag over words)", ""]
        parts.append(markdown_table(result["per_tag"], ["label", "precision", "recall", "f1", "support"]))
        parts += _errors(split, result["errors"])
    if train := metrics.get("train"):
        parts += ["", "## Training", "", markdown_table([train], list(train))]
    if history := metrics.get("history"):
        columns = ["step", "epoch", "train_loss", "loss", "entity_f1", "token_accuracy"]
        parts += ["", "## Evaluations during training", "", markdown_table(history, columns)]
    for caption, file in (plots or {}).items():
        parts += ["", f"## {caption}", "", f"![{caption}]({file})"]
    return "\n".join(parts) + "\n"


def _errors(split: str, errors: dict[str, Any]) -> list[str]:
    totals = errors["totals"]
    parts = [
        "",
        f"## Errors ({split}): {totals['missed']} missed, {totals['spurious']} spurious, "
        f"{totals['wrong_type']} wrong type",
    ]
    for kind, columns in (
        ("missed", ["text", "label", "count"]),
        ("spurious", ["text", "label", "count"]),
        ("wrong_type", ["text", "label", "predicted", "count"]),
    ):
        if errors[kind]:
            rows = [{**row, "text": str(row["text"]).replace("|", "\\|")} for row in errors[kind]]
            parts += ["", f"Most frequent {kind.replace('_', '-')} entities:", "", markdown_table(rows, columns)]
    return parts
