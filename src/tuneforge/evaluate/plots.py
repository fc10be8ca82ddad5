"""PNG plots of a run: confusion matrix and learning curves. Matplotlib is imported here only."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_comparison", "plot_confusion", "plot_learning_curve"]

# Chinese label names need a CJK font; the first one installed wins, otherwise glyphs fall back to boxes.
_CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "PingFang SC"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    plt.rcParams["font.sans-serif"] = [f for f in _CJK_FONTS if f in installed] + ["DejaVu Sans"]
    return plt


def _save(fig: Any, path: Path, dpi: int = 120) -> None:
    tmp = path.with_name(path.stem + ".tmp.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing-glyph warnings for CJK text without a CJK font
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    tmp.replace(path)


# Above this many labels the per-cell numbers are unreadable and the figure grows without bound: measured with
# 150 labels, numbers in every cell and 0.6 in per label made a 10.8 MB PNG in 35 s; without them, at 14 in and
# 80 dpi, it is 0.13 MB in 1 s. The counts stay in metrics.json.
_MAX_ANNOTATED_LABELS = 30
_LARGE_CONFUSION_INCHES = 14.0
_LARGE_CONFUSION_DPI = 80


def plot_confusion(confusion: np.ndarray, labels: list[str], path: Path, title: str) -> None:
    """The confusion matrix as a heat map; with more than 30 labels, without per-cell numbers and at a fixed size."""
    plt = _pyplot()
    large = len(labels) > _MAX_ANNOTATED_LABELS
    size = _LARGE_CONFUSION_INCHES if large else max(4.0, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(confusion, cmap="Blues")
    # ticks shrink with the label count so that 150 names still fit along 14 inches (about 6 pt each)
    font = max(3.0, 10.0 * _MAX_ANNOTATED_LABELS / len(labels)) if large else None
    rotation, align = (90, "center") if large else (45, "right")
    ax.set_xticks(range(len(labels)), labels, rotation=rotation, ha=align, fontsize=font)
    ax.set_yticks(range(len(labels)), labels, fontsize=font)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if not large:
        threshold = confusion.max() / 2 if confusion.size else 0
        for (i, j), count in np.ndenumerate(confusion):
            ax.text(j, i, str(count), ha="center", va="center", color="white" if count > threshold else "black")
    _save(fig, path, dpi=_LARGE_CONFUSION_DPI if large else 120)
    plt.close(fig)


def plot_learning_curve(history: list[dict[str, Any]], path: Path, metric: str) -> None:
    """Train and validation loss, and the watched validation metric, against optimiser steps."""
    plt = _pyplot()
    steps = [h["step"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(steps, [h["train_loss"] for h in history], marker="o", label="train loss")
    left.plot(steps, [h["loss"] for h in history], marker="o", label="validation loss")
    left.set_xlabel("step")
    left.legend()
    right.plot(steps, [h.get(metric, float("nan")) for h in history], marker="o", color="tab:green")
    right.set_xlabel("step")
    right.set_title(f"validation {metric}")
    _save(fig, path)
    plt.close(fig)


def plot_comparison(rows: list[dict[str, Any]], panels: dict[str, str], path: Path, title: str) -> None:
    """One bar chart per `panels` entry (row key -> axis title), one bar per row, labelled by `row['method']`."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4))
    names = [row["method"] for row in rows]
    for ax, (key, label) in zip(np.atleast_1d(axes), panels.items(), strict=True):
        values = [float(row[key]) if row.get(key) is not None else float("nan") for row in rows]
        bars = ax.bar(names, values, color="tab:blue")
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], fontsize=7)
        ax.set_title(label)
        ax.tick_params(axis="x", rotation=60)
    fig.suptitle(title)
    _save(fig, path)
    plt.close(fig)
