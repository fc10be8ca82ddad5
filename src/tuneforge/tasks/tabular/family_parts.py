"""What more than one model family is built from: the one-hot, standardised encoding of a table's columns
(logistic regression, MLP), running a fit on one thread (all but the language model), and the training loop's
settings for the two families it trains (MLP, language model).

Its own module so that families.py, which names every family, and mlp.py, one of them, need not import each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tuneforge.config import TrainConfig
from tuneforge.config.tabular import LmSettings, MlpSettings
from tuneforge.tasks.tabular.schema import Schema

__all__ = ["loop_config", "one_hot_scaled", "one_thread"]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run OpenMP, BLAS and torch on one thread. Tables of thousands of rows need no more, and idle threads spin
    on a busy machine: HistGradientBoosting on 300 rows took 0.5 s on one thread, 8-34 s on two shared cores."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(before)


def one_hot_scaled(schema: Schema) -> Any:
    """Standardised numbers and one-hot categories; a category unseen in training becomes all zeros."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = schema.of_kind("categorical")
    return ColumnTransformer(
        [
            ("numeric", StandardScaler(), [c.name for c in schema.of_kind("numeric")]),
            (
                "categorical",
                # Categories fixed from the schema, so a fold that lacks a rare one still knows its column.
                OneHotEncoder(
                    categories=[c.categories for c in categorical], handle_unknown="ignore", sparse_output=False
                ),
                [c.name for c in categorical],
            ),
        ]
    )


def loop_config(seed: int, family: MlpSettings | LmSettings, **settings: Any) -> TrainConfig:
    """`TrainConfig` for one fit of a family, with its epochs, batch size and learning rate: a fold has no
    validation split to stop early on, its rows need no batching by length (MLP rows are vectors, serialised rows
    are about equally long), and it takes seconds (MLP) to minutes (language model on CPU), so the loop saves no
    checkpoint before the end."""
    return TrainConfig(
        epochs=family.epochs,
        batch_size=family.batch_size,
        lr=family.lr,
        seed=seed,
        group_by_length=False,
        early_stopping=None,
        save_every=10**9,
        **settings,
    )
