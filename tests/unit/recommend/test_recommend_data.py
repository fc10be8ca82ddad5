"""Reading and validating item texts and interactions: every bad row is named by file, line and field."""

from pathlib import Path

import pytest

from tuneforge.config.recommend import RecommendConfig
from tuneforge.errors import DataError
from tuneforge.tasks.recommendation.data import parse_time, read_catalogue, read_interactions

ITEMS = "item,title,genres,description\nm1,Star Voyager,Sci-Fi,robots in space\nm2,春日情书,爱情,杭州的爱情故事\n"


def _settings(tmp_path: Path, items: str = ITEMS) -> RecommendConfig:
    path = tmp_path / "items.csv"
    path.write_text(items, encoding="utf-8")
    return RecommendConfig(items=path, rating_column="rating")


def _interactions(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "interactions.csv"
    path.write_text("user,item,rating,timestamp\n" + body, encoding="utf-8")
    return path


def test_catalogue_joins_texts_and_keeps_chinese(tmp_path: Path) -> None:
    catalogue = read_catalogue(_settings(tmp_path), "auto", "fail")
    assert catalogue.ids == ["m1", "m2"]
    assert catalogue.texts[1] == "春日情书. 爱情. 杭州的爱情故事"


def test_duplicate_item_ids_name_both_lines(tmp_path: Path) -> None:
    with pytest.raises(DataError) as error:
        read_catalogue(_settings(tmp_path, ITEMS + "m1,Again,Drama,x\n"), "auto", "fail")
    assert "items.csv:4: field 'item': duplicate item id 'm1' (first on line 2)" in str(error.value)


def test_bad_interactions_are_all_listed_with_line_and_field(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    catalogue = read_catalogue(settings, "auto", "fail")
    body = "u1,m1,4,1700000000\nu1,m9,4,1700000001\nu2,m2,4,yesterday\nu2,m1,lots,1700000002\n"
    with pytest.raises(DataError) as error:
        read_interactions(_interactions(tmp_path, body), settings, catalogue, "auto", "fail")
    problems = error.value.problems
    assert len(problems) == 3
    assert problems[0].endswith(":3: field 'item': unknown item id 'm9': not in " + str(settings.items))
    assert ":4: field 'timestamp': expected Unix seconds or an ISO 8601 date-time, got 'yesterday'" in problems[1]
    assert ":5: field 'rating': expected a number, got 'lots'" in problems[2]


def test_skip_keeps_good_rows_and_first_of_repeats_sorted_by_time(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    catalogue = read_catalogue(settings, "auto", "fail")
    body = "u1,m2,4,2024-01-02T00:00:00Z\nu1,m1,4,2024-01-01\nu1,m9,4,1\nu1,m2,5,2024-03-01\n"
    data = read_interactions(_interactions(tmp_path, body), settings, catalogue, "auto", "skip")
    assert data.items.tolist() == [0, 1]  # m1 first: it is earlier in time, though later in the file
    assert data.duplicates_dropped == 1 and len(data.rejected) == 1


def test_timestamps_unix_and_iso() -> None:
    assert parse_time("0") == 0.0
    assert parse_time("1970-01-02") == 86400.0
    assert parse_time("1970-01-01T01:00:00+01:00") == 0.0
    assert parse_time("soon") is None
