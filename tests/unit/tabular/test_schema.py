"""Schema inference and row validation: kinds, fill values, and row errors that name file, line and column."""

from pathlib import Path

import pytest

from tuneforge.config.tabular import TabularConfig
from tuneforge.data.read import read_table
from tuneforge.errors import DataError
from tuneforge.tasks.tabular.schema import UNKNOWN, Schema, infer_schema, parse_rows

ROWS = """age,city,plan,label
30,北京,gold,good
45,Berlin,silver,bad
52,北京,gold,good
28,London,,good
61,Berlin,silver,bad
"""


def _table(tmp_path: Path, text: str = ROWS):
    path = tmp_path / "train.csv"
    path.write_text(text, encoding="utf-8")
    return read_table(path)


def _schema(table, **settings) -> Schema:
    return infer_schema(table.rows, table.columns, "label", TabularConfig(**settings), table.source)


def test_infers_kinds_fills_and_the_rarer_class_as_positive(tmp_path: Path) -> None:
    schema = _schema(_table(tmp_path))
    kinds = {c.name: (c.kind, c.fill, c.categories) for c in schema.columns}
    assert kinds["age"] == ("numeric", 45.0, [])
    # A tie for most frequent goes to the category seen first.
    assert kinds["city"] == ("categorical", "北京", ["Berlin", "London", "北京"])
    assert kinds["plan"][0] == "categorical" and kinds["plan"][2] == ["gold", "silver"]
    assert schema.classes == ["good", "bad"] and schema.positive == "bad"
    assert Schema.from_dict(schema.to_dict()) == schema


def test_config_overrides_kinds_positive_label_and_excludes(tmp_path: Path) -> None:
    schema = _schema(_table(tmp_path), columns={"age": "categorical"}, positive_label="good", exclude=["plan"])
    assert [(c.name, c.kind) for c in schema.columns] == [("age", "categorical"), ("city", "categorical")]
    assert schema.classes == ["bad", "good"]


def test_target_must_be_binary(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="exactly 2 classes.*'good' \\(3\\), 'bad' \\(2\\), 'maybe' \\(1\\)"):
        _schema(_table(tmp_path, ROWS + "33,北京,gold,maybe\n"))


def test_bad_cells_are_row_errors_with_file_line_and_column(tmp_path: Path) -> None:
    table = _table(tmp_path)
    schema = _schema(table)
    dirty = _table(tmp_path, "age,city,plan,label\nold,北京,gold,good\n40,北京,gold,\n41,Paris,gold,good\n")
    parsed = parse_rows(dirty.rows, dirty.source, schema, TabularConfig(), labelled=True, training=False)
    problems = [str(e) for e in parsed.errors]
    assert f"{dirty.source}:2: field 'age': expected a number, got 'old'" in problems
    assert f"{dirty.source}:3: field 'label': missing target value" in problems
    assert parsed.lines == [4] and parsed.frame.loc[0, "city"] == UNKNOWN  # unknown_category: unknown (default)

    strict = TabularConfig(unknown_category="error")
    parsed = parse_rows(dirty.rows[2:], dirty.source, schema, strict, labelled=True, training=False)
    assert str(parsed.errors[0]).startswith(f"{dirty.source}:4: field 'city': unknown category 'Paris'; seen in")


def test_missing_cells_are_imputed_or_fail(tmp_path: Path) -> None:
    table = _table(tmp_path)
    schema = _schema(table)
    parsed = parse_rows(table.rows, table.source, schema, TabularConfig(), labelled=True, training=True)
    assert not parsed.errors and parsed.frame.loc[3, "plan"] == "gold" and list(parsed.labels) == [0, 1, 0, 0, 1]
    parsed = parse_rows(table.rows, table.source, schema, TabularConfig(missing="fail"), labelled=True, training=True)
    assert [str(e) for e in parsed.errors] == [
        f"{table.source}:5: field 'plan': missing value (tabular.missing: fail)"
    ]
    assert len(parsed.frame) == 4 and len(parsed.labels) == 4
