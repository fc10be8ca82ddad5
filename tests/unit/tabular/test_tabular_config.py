"""The tabular block of a config: validated with the rest, errors naming the key path."""

from pathlib import Path

import pytest
import yaml

from tuneforge.errors import ConfigError
from tuneforge.tasks import load_config
from tuneforge.tasks.tabular.data import check_tabular_config


def _write(tmp_path: Path, **extra: object) -> Path:
    (tmp_path / "t.csv").write_text("age,label\n1,a\n", encoding="utf-8")
    raw = {"task": "tabular-classification", "data": {"train": str(tmp_path / "t.csv")}, **extra}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_tabular_block_is_validated_with_key_paths(tmp_path: Path) -> None:
    path = _write(tmp_path, tabular={"folds": 1, "models": ["hgb", "xgboost"], "cost": {"false_negativ": 5}})
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = " ".join(caught.value.problems)
    assert "'tabular.folds'" in problems and "'tabular.models.1'" in problems
    assert "unknown key 'tabular.cost.false_negativ' (did you mean 'false_negative'?)" in problems


def test_defaults_and_overrides(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path), ["tabular.folds=3", "tabular.lm.epochs=1"])
    tabular = check_tabular_config(cfg)
    assert tabular.folds == 3 and tabular.lm.epochs == 1 and tabular.models == ["hgb", "logreg", "mlp", "lm"]
    assert (tabular.cost.false_negative, tabular.cost.false_positive) == (5.0, 1.0)


def test_held_out_files_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, data={"train": str(tmp_path / "t.csv"), "test": str(tmp_path / "t.csv")})
    with pytest.raises(ConfigError, match="data.test: tabular-classification scores models by cross-validation"):
        load_config(path)


def test_served_families_must_be_compared(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="serve_from \\['lm'\\] must be a subset of models"):
        load_config(_write(tmp_path, tabular={"models": ["hgb", "logreg"], "serve_from": ["lm"]}))
