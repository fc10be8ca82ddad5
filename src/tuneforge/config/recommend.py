"""The `recommend:` block of a recommendation config: input columns, protocol, and the three model families.

Kept free of tuneforge imports: tuneforge.config imports it to type its `recommend` field.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from tuneforge.frozen import Frozen

__all__ = ["MFConfig", "RecommendConfig", "TowerConfig"]


class MFConfig(Frozen):
    """Implicit-feedback ALS (the `implicit` package); the grid is searched on validation NDCG@10."""

    factors: list[int] = Field([32, 64, 128], min_length=1, description="Latent sizes tried.")
    regularization: list[float] = Field([0.01, 0.1], min_length=1, description="L2 strengths tried.")
    alpha: float = Field(10.0, gt=0, description="Confidence of an observed interaction: 1 + alpha (Hu et al. 2008).")
    iterations: int = Field(15, ge=1, description="ALS sweeps per fit.")


class TowerConfig(Frozen):
    """The language-model two-tower recommender trained through tuneforge's loop (lr, epochs: `train:`)."""

    dim: int = Field(128, ge=8, description="Size of item and user vectors.")
    history: int = Field(30, ge=1, description="Most recent items of a user's history the user tower reads.")
    window: int | None = Field(
        None, ge=1, description="Train on each user's last N items as targets only; null: all. Cuts CPU time."
    )
    dropout: float = Field(0.2, ge=0, lt=1, description="Dropout before the user tower's MLP.")
    id_embeddings: bool = Field(
        True, description="Add a learned vector per item seen in training; held-out items still score from text."
    )


class RecommendConfig(Frozen):
    """`data.train` holds the interactions; `items` the item texts. Columns are named here."""

    items: Path = Field(description="Item file (CSV, TSV, JSONL, Parquet): one row per item id with its texts.")
    user_column: str = Field("user", description="Interactions: user id column.")
    item_column: str = Field("item", description="Interactions and items: item id column.")
    rating_column: str | None = Field(None, description="Interactions: rating column; null for clicks.")
    min_rating: float | None = Field(None, description="Interactions rated below this are dropped; null keeps all.")
    timestamp_column: str = Field("timestamp", description="Interactions: Unix seconds or ISO 8601 date-time.")
    text_columns: list[str] = Field(
        ["title", "genres", "description"], min_length=1, description="Item columns joined into the item text."
    )
    title_column: str = Field("title", description="Item column shown in predictions.")
    cold_fraction: float = Field(
        0.1, ge=0, lt=0.5, description="Share of items held out of training entirely, to test cold start."
    )
    k: int = Field(10, ge=1, description="Cut-off of Recall@k and NDCG@k, and items returned by predict.")
    encoder_batch: int = Field(64, ge=1, description="Item texts per batch when embedding them with the encoder.")
    mf: MFConfig = Field(default_factory=MFConfig, description="Matrix factorisation baseline.")
    tower: TowerConfig = Field(default_factory=TowerConfig, description="The language-model recommender.")
