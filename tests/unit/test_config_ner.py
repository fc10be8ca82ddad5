"""Config rules of token classification: its early-stopping metric, and options that cannot apply to it."""

from pathlib import Path

import pytest
import yaml

from tuneforge.errors import ConfigError
from tuneforge.tasks import load_config


def _config(tmp_path: Path, **sections: object) -> Path:
    data = tmp_path / "train.conll"
    data.write_text("Anna B-PER\n", encoding="utf-8")
    raw = {"task": "token-classification", "data": {"train": str(data)}, **sections}
    path = tmp_path / "ner.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_ner_watches_entity_f1_unless_told(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path)).train.early_stopping.metric == "entity_f1"
    path = _config(tmp_path, train={"early_stopping": {"patience": 5}})
    assert load_config(path).train.early_stopping.metric == "entity_f1"
    assert load_config(path, ["train.early_stopping.metric=loss"]).train.early_stopping.metric == "loss"
    assert load_config(path, ["train.early_stopping=null"]).train.early_stopping is None
    assert load_config(path, ["task=text-classification"]).train.early_stopping.metric == "macro_f1"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.clean.redact_pii=true", "redact_pii is not supported for token-classification"),
        ("train.class_weights=balanced", "train.class_weights is an option of task text-classification, not token"),
        ("data.format=csv", "data.format csv holds nothing task token-classification reads"),
        ("task=text-classification", "data.format conll holds nothing task text-classification reads"),
        ("data.ner.tag_column=0", "column 0 holds the token"),
    ],
)
def test_options_that_do_not_fit_the_task(tmp_path: Path, override: str, message: str) -> None:
    overrides = [override, "data.format=conll"] if override.startswith("task") else [override]
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path), overrides)
    assert message in str(caught.value)
