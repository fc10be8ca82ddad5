"""Near-duplicate texts (clean.near_duplicates): the similarity, the index, dedup and leakage in prepare_data."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from tuneforge.config import CleanConfig, SplitConfig
from tuneforge.data import ConflictGroup, Example
from tuneforge.data.dedup import NearDuplicateGroup, dedup
from tuneforge.data.near_dup import NearDuplicateIndex, jaccard, near_duplicate_groups
from tuneforge.data.normalize import normalize_text

NO_SPLIT = SplitConfig(validation=0, test=0)
THRESHOLD = 0.8  # the value the config description suggests
PARCEL = ("Where's my parcel? It has not arrived yet.", "Where is my parcel? it has not arrived yet")
CARD = ("cancel my card", "activate my card")
WASHER = (
    "我上周在你们网站买的洗衣机到现在还没有送到，麻烦帮我查一下",
    "我上周在你们网站买的洗衣机到现在都还没有送到，麻烦帮我查一下。",
)
CARD_ZH = ("我想取消我的信用卡", "我想激活我的信用卡")


def examples(*rows: tuple[str, str], source: str = "t.csv") -> list[Example]:
    return [Example(text, label, source, line) for line, (text, label) in enumerate(rows, start=2)]


@pytest.mark.parametrize(
    ("pair", "similarity", "near"),
    [(PARCEL, 0.848, True), (CARD, 0.222, False), (WASHER, 0.828, True), (CARD_ZH, 0.273, False)],
    ids=["parcel", "card", "zh-washer", "zh-card"],
)
def test_similar_wordings_match_and_different_intents_do_not(pair, similarity, near):
    assert jaccard(*pair) == pytest.approx(similarity, abs=1e-3)
    assert (near_duplicate_groups(list(pair), THRESHOLD) == [[0, 1]]) is near
    index = NearDuplicateIndex(THRESHOLD)
    index.add("first", pair[0])
    assert index.matches(pair[1]) == (["first"] if near else [])


def test_the_index_finds_a_match_among_many_best_first():
    index = NearDuplicateIndex(THRESHOLD)
    index.add_many((i, f"order {i} was charged twice on invoice {i * 7919}") for i in range(3000))
    index.add_many([("parcel", PARCEL[0]), ("parcel, exactly", PARCEL[1].upper())])
    assert index.matches(PARCEL[1]) == ["parcel, exactly", "parcel"]
    assert index.matches("order 1234 was charged twice on invoice 9772046") == [1234]
    assert index.matches("something else entirely") == []
    with pytest.raises(ValueError, match="already indexed"):
        index.add("parcel", "again")


def test_groups_are_connected_in_order_of_their_first_text():
    texts = ["abcdefghij", CARD[0], "abcdefghijk", "abcdefghijkl", CARD[1], "Cancel my card!"]
    assert near_duplicate_groups(texts, THRESHOLD) == [[0, 2, 3], [1, 5]]  # 0 and 3 only through 2


def test_runs_in_other_processes_give_the_same_groups():
    # A fresh interpreter has another PYTHONHASHSEED: nothing may depend on hash() or on set order.
    code = (
        "import random; from tuneforge.data.near_dup import near_duplicate_groups as g; r = random.Random(3); "
        "t = [' '.join(r.choice('my card order refund parcel late where is the'.split()) for _ in range(6)) "
        "for _ in range(400)]; print(g(t, 0.6))"
    )
    first, second = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True) for _ in "ab")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and first.stdout.startswith("[[")


def test_dedup_merges_near_duplicates_and_resolves_their_conflicts():
    rows = examples(
        (PARCEL[0], "delivery"),
        (PARCEL[1], "delivery"),  # near duplicate, same label: dropped
        (WASHER[0], "delivery"),
        (WASHER[1], "complaint"),
        (WASHER[1], "delivery"),  # the majority label keeps its first row (line 4)
        (CARD[0], "cancel"),
        (CARD[1], "activate"),  # a different intent: both kept
        (CARD_ZH[0], "cancel"),
        ("我想取消我的信用卡！", "activate"),  # a normalised duplicate with another label: a 1-1 tie, both dropped
    )
    kept, stats = dedup(rows, THRESHOLD)
    assert kept == [rows[0], rows[2], rows[5], rows[6]]
    assert (stats.exact, stats.normalised, stats.near, stats.conflicting) == (0, 0, 1, 4)
    assert stats.near_groups == [NearDuplicateGroup("t.csv", "delivery", list(PARCEL), [2, 3])]
    assert stats.conflicts == [
        ConflictGroup("t.csv", WASHER[0], {"delivery": 2, "complaint": 1}, "delivery", [4, 5, 6], [WASHER[1]]),
        ConflictGroup("t.csv", CARD_ZH[0], {"cancel": 1, "activate": 1}, None, [9, 10]),
    ]


def test_near_duplicates_need_dedup():
    with pytest.raises(ValueError, match="near_duplicates is set but dedup is false"):
        CleanConfig(dedup=False, near_duplicates=0.8)


TRAIN = (
    "text,label\n"
    f"{PARCEL[0]},delivery\n"
    f"{PARCEL[1]},delivery\n"
    "cancel my card,cancel\n"
    "activate my card,activate\n"
    "hello there,other\n"
    "Hello there!,other\n"
    "refund me please now,refund\n"
    "refund me please now!,complaint\n"
    f"{WASHER[0]},delivery\n"
)


def test_off_by_default_leaves_prepare_unchanged(write, prepare):
    train = write("train.csv", TRAIN)
    default, off = prepare(train, split=NO_SPLIT), prepare(train, split=NO_SPLIT, clean=CleanConfig(dedup=True))
    assert CleanConfig().near_duplicates is None
    assert default.train == off.train and default.report == off.report
    assert [e.line for e in default.train] == [2, 3, 4, 5, 6, 10]  # the parcel pair stays two rows
    assert "near_duplicates" not in default.report.dropped and default.report.near_duplicate_groups == 0


def test_prepare_drops_and_reports_near_duplicates_and_near_leakage(write, prepare):
    train = write("train.csv", TRAIN)
    test = write("test.csv", f"text,label\n{WASHER[1]},delivery\n{PARCEL[1]},delivery\n{PARCEL[0]},delivery\n")
    data = prepare(train, test=test, split=NO_SPLIT, clean=CleanConfig(near_duplicates=THRESHOLD))
    assert [e.line for e in data.train] == [4, 5, 6]  # parcel (kept row 2) and the washer leak into test
    assert [e.text for e in data.test] == [normalize_text(WASHER[1]), PARCEL[1], PARCEL[0]]  # a given file: all kept
    report = data.report
    assert report.dropped["near_duplicates"] == 1 and report.dropped["conflicting_labels"] == 2
    assert report.dropped["leakage"] == 2 and report.leakage["train/test"] == 3
    assert report.kept_duplicates == {"test": 1}
    assert report.near_duplicate_groups == 1 and report.near_duplicates[0].texts == list(PARCEL)
    markdown = report.to_markdown()
    assert "## Near-duplicates merged (1 groups, first 1 shown)" in markdown
    assert f"{PARCEL[0]} ≈ {PARCEL[1]}"[:59] in markdown


def test_given_test_file_keeps_its_near_duplicates(write, prepare):
    train = write("train.csv", "text,label\nhello there,other\nrefund please,refund\n")
    rows = f"text,label\n{PARCEL[0]},delivery\n{PARCEL[1]},complaint\n{CARD[0]},cancel\n"
    data = prepare(train, test=write("test.csv", rows), split=NO_SPLIT, clean=CleanConfig(near_duplicates=0.8))
    assert [dataclasses.astuple(e)[:2] for e in data.test] == [
        (PARCEL[0], "delivery"),
        (PARCEL[1], "complaint"),
        (CARD[0], "cancel"),
    ]
    assert data.report.kept_duplicates == {"test": 2}  # counted as dedup would drop them: a 1-1 tie, both
    assert any("repeat an earlier text of the file" in w for w in data.report.warnings)
