"""report.md of a causal-lm-sft run: tuned vs base scores per split, answers side by side, training history."""

from __future__ import annotations

from typing import Any

from tuneforge.evaluate.report import markdown_table

__all__ = ["render_sft_report"]

_SCORES = ["loss", "perplexity", "rouge_l", "exact_match"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def render_sft_report(title: str, results: dict[str, Any], plots: dict[str, str] | None = None) -> str:
    parts = [f"# {title}", "", "## Metrics (ROUGE-L and exact match in points, 0-100)", ""]
    rows = []
    for split in ("validation", "test"):
        if split in results:
            r = results[split]
            for model, prefix in (("base", "base_"), ("tuned", "")):
                rows.append({"split": split, "model": model, **{k: r.get(prefix + k, "") for k in _SCORES}})
    parts.append(markdown_table(rows, ["split", "model", *_SCORES]))
    for split in ("validation", "test"):
        if split in results and results[split].get("samples"):
            r = results[split]
            parts += [
                "",
                f"## Answers side by side ({split}; {r['answered']} of {r['size']} answered, first "
                f"{len(r['samples'])} shown)",
                "",
                "| question | reference | base answer | tuned answer |",
                "|---|---|---|---|",
            ]
            parts += [
                f"| {_cell(s['question'])} | {_cell(s['reference'])} | {_cell(s['base'])} | {_cell(s['tuned'])} |"
                for s in r["samples"]
            ]
    if train := results.get("train"):
        parts += ["", "## Training", "", markdown_table([train], list(train))]
    if history := results.get("history"):
        columns = ["step", "epoch", "train_loss", "loss", "perplexity"]
        parts += ["", "## Evaluations during training", "", markdown_table(history, columns)]
    for caption, file in (plots or {}).items():
        parts += ["", f"## {caption}", "", f"![{caption}]({file})"]
    return "\n".join(parts) + "\n"
