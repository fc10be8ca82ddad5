"""The model families compared on a table. Each has `fit(frame, y)`, `predict_proba(frame)` (probability of the
positive class), `save(folder)` and `load(folder, schema, cfg)`; `FAMILIES` maps config names to them.

The scikit-learn families are pipelines saved with skops (persist.py): loading a run folder runs no code from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tuneforge.config import Config
from tuneforge.errors import DataError
from tuneforge.tasks.tabular.family_parts import one_hot_scaled, one_thread
from tuneforge.tasks.tabular.persist import load_sklearn, save_sklearn
from tuneforge.tasks.tabular.schema import Schema

__all__ = ["FAMILIES", "NAMES", "Family", "make_family"]

_MAX_TREE_CATEGORIES = 254  # HistGradientBoosting's 255 bins, one of them kept for missing values

NAMES = {
    "hgb": "HistGradientBoosting",
    "logreg": "Logistic regression",
    "mlp": "MLP (PyTorch)",
    "lm": "Language model on rows as text",
}


class Family(Protocol):
    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> Family: ...
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray: ...
    def save(self, folder: Path) -> None: ...


class _SklearnFamily:
    _FILE = "estimator.skops"

    def __init__(self, schema: Schema, cfg: Config) -> None:
        self.schema, self.seed = schema, cfg.tabular.seed if cfg.tabular else 42
        self.estimator_: Any = None

    def _estimator(self) -> Any:
        raise NotImplementedError

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> _SklearnFamily:
        with one_thread():
            self.estimator_ = self._estimator().fit(frame, y)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        with one_thread():
            return self.estimator_.predict_proba(frame)[:, 1]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_sklearn(self.estimator_, folder / self._FILE)

    @classmethod
    def load(cls, folder: Path, schema: Schema, cfg: Config) -> _SklearnFamily:
        family = cls(schema, cfg)
        family.estimator_ = load_sklearn(folder / cls._FILE)
        return family


class GradientBoosting(_SklearnFamily):
    def _estimator(self) -> Any:
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OrdinalEncoder

        categorical = self.schema.of_kind("categorical")
        if wide := [
            f"{c.name} ({len(c.categories)})" for c in categorical if len(c.categories) > _MAX_TREE_CATEGORIES
        ]:
            raise DataError(
                f"HistGradientBoosting takes at most {_MAX_TREE_CATEGORIES} categories per column; too many in "
                f"{', '.join(wide)}: list such columns in tabular.exclude, or leave hgb out of tabular.models"
            )
        # Unseen categories become NaN, which the trees send down the missing-value branch.
        encode = ColumnTransformer(
            [
                (
                    "categorical",
                    OrdinalEncoder(
                        categories=[c.categories for c in categorical],
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                    ),
                    [c.name for c in categorical],
                ),
                ("numeric", "passthrough", [c.name for c in self.schema.of_kind("numeric")]),
            ]
        )
        # Small trees, slow learning rate: 1,000 rows overfit scikit-learn's defaults (31 leaves, rate 0.1).
        trees = HistGradientBoostingClassifier(
            categorical_features=list(range(len(categorical))),
            learning_rate=0.05,
            max_iter=200,
            max_leaf_nodes=8,
            min_samples_leaf=20,
            l2_regularization=1.0,
            random_state=self.seed,
        )
        return make_pipeline(encode, trees)


class LogisticRegressionFamily(_SklearnFamily):
    def _estimator(self) -> Any:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        return make_pipeline(one_hot_scaled(self.schema), LogisticRegression(C=0.1, max_iter=2000))


def _mlp() -> type:
    from tuneforge.tasks.tabular.mlp import TorchMLP

    return TorchMLP


def _lm() -> type:
    from tuneforge.tasks.tabular.lm import TextLM

    return TextLM


# Torch families are imported when used: the scikit-learn ones need no torch at all.
FAMILIES: dict[str, Any] = {
    "hgb": lambda: GradientBoosting,
    "logreg": lambda: LogisticRegressionFamily,
    "mlp": _mlp,
    "lm": _lm,
}


def make_family(name: str, schema: Schema, cfg: Config) -> Family:
    return FAMILIES[name]()(schema, cfg)
