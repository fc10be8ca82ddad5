"""Duplicates (exact, normalised, conflicting labels) and leakage between splits."""

from __future__ import annotations

from tuneforge.config import CleanConfig, SplitConfig
from tuneforge.data import ConflictGroup, Example
from tuneforge.data.dedup import dedup, remove_leakage

NO_SPLIT = SplitConfig(validation=0, test=0)


def examples(*rows: tuple[str, str]) -> list[Example]:
    return [Example(text, label, "t.csv", line) for line, (text, label) in enumerate(rows, start=2)]


def test_exact_and_normalised_duplicates_keep_the_first_row():
    rows = examples(
        ("Where is my order?", "delivery"),
        ("where is my ORDER", "delivery"),  # normalised duplicate
        ("Where is my order?", "delivery"),  # exact duplicate
        ("我要退款，谢谢", "refund"),
        ("我要退款 谢谢!", "refund"),  # normalised duplicate across Chinese and ASCII punctuation
        ("a different text", "delivery"),
    )
    kept, stats = dedup(rows)
    assert kept == [rows[0], rows[3], rows[5]]
    assert (stats.exact, stats.normalised, stats.conflicting, stats.conflicts) == (1, 2, 0, [])


def test_conflicting_labels_keep_the_majority_and_drop_ties():
    rows = examples(
        ("cancel my account", "complaint"),
        ("Cancel my account!", "account"),
        ("cancel my account", "account"),
        ("包裹坏了", "delivery"),
        ("包裹坏了。", "complaint"),
    )
    kept, stats = dedup(rows)
    assert kept == [rows[1]]  # first row of the majority label 'account'; the 1-1 tie is dropped entirely
    assert stats.conflicting == 4
    assert stats.conflicts == [
        ConflictGroup("t.csv", "cancel my account", {"complaint": 1, "account": 2}, "account", [2, 3, 4]),
        ConflictGroup("t.csv", "包裹坏了", {"delivery": 1, "complaint": 1}, None, [5, 6]),
    ]


def test_remove_leakage_drops_shared_texts_from_train_only():
    train = examples(("Where is my order?", "delivery"), ("refund please", "refund"), ("hello", "other"))
    validation = examples(("where is my order", "delivery"))
    test = examples(("Refund, please!", "complaint"), ("where is my order", "delivery"))
    splits, shared, dropped = remove_leakage({"train": train, "validation": validation, "test": test})
    assert splits["train"] == [train[2]]
    assert splits["validation"] == validation and splits["test"] == test
    assert shared == {"train/validation": 1, "train/test": 2, "validation/test": 1}
    assert dropped == 2


def test_prepare_reports_duplicates_conflicts_and_leakage(write, prepare):
    train = write(
        "train.csv",
        "text,label\nhello there,other\nHello there!,other\nhello there,other\nrefund me,refund\n"
        "refund me,complaint\nwhere is my parcel,delivery\n你好,other\n",
    )
    validation = write("validation.csv", "text,label\nWHERE IS MY PARCEL?,delivery\nnew text,other\n")
    data = prepare(train, validation=validation, split=NO_SPLIT)
    assert [e.line for e in data.train] == [2, 8]
    assert data.report.dropped == {
        "rejected": 0,
        "exact_duplicates": 1,
        "normalised_duplicates": 1,
        "conflicting_labels": 2,
        "leakage": 1,
    }
    assert data.report.conflict_groups == 1
    assert data.report.conflicts[0].lines == [5, 6] and data.report.conflicts[0].kept is None
    assert data.report.leakage == {"train/validation": 1, "train/test": 0, "validation/test": 0}


def test_dedup_off_keeps_duplicates(write, prepare):
    train = write("train.csv", "text,label\nhello,other\nhello,other\nHELLO!,other\n")
    data = prepare(train, split=NO_SPLIT, clean=CleanConfig(dedup=False))
    assert [e.line for e in data.train] == [2, 3, 4]
    assert data.report.dropped["exact_duplicates"] == 0


def test_pii_is_redacted_before_dedup_and_counted(write, prepare):
    train = write(
        "train.csv",
        "text,label\ncall me at 13812345678,account\ncall me at 13987654321,account\nmail a@b.com or 10.0.0.1,other\n",
    )
    data = prepare(train, split=NO_SPLIT, clean=CleanConfig(redact_pii=True))
    assert [e.text for e in data.train] == ["call me at [PHONE]", "mail [EMAIL] or [IP]"]
    assert data.report.pii == {"PHONE": 2, "EMAIL": 1, "IP": 1}
    assert data.report.dropped["exact_duplicates"] == 1
