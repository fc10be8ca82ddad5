"""PNGs of a tabular run: calibration curves of every family, permutation importance of the best one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tuneforge.evaluate.plots import _pyplot, _save  # the project's one matplotlib setup (CJK fonts, atomic save)

__all__ = ["plot_calibration", "plot_importance"]


def plot_calibration(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, title: str) -> None:
    """Observed share of positives against mean predicted probability, per family (out-of-fold predictions)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for name, (predicted, observed) in curves.items():
        ax.plot(predicted, observed, marker="o", label=name)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed share of positives")
    ax.set_title(title)
    ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)


def plot_importance(importances: dict[str, dict[str, float]], path: Path, title: str) -> None:
    """Horizontal bars of the mean drop in ROC-AUC per shuffled column, largest on top, std as error bars."""
    plt = _pyplot()
    ordered = sorted(importances.items(), key=lambda item: item[1]["mean"])
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(ordered) + 1.5))
    ax.barh(
        [name for name, _ in ordered],
        [v["mean"] for _, v in ordered],
        xerr=[v["std"] for _, v in ordered],
        color="tab:blue",
    )
    ax.set_xlabel("drop in ROC-AUC when shuffled")
    ax.set_title(title)
    _save(fig, path)
    plt.close(fig)
