"""DataReport: statistics, warnings, and its JSON, Markdown and terminal forms."""

from __future__ import annotations

import io
import json

from rich.console import Console

from tuneforge.config import CleanConfig, SplitConfig

NO_SPLIT = SplitConfig(validation=0, test=0)


def test_length_percentiles_and_truncated_share(write, prepare):
    texts = [" ".join(["w"] * n) for n in range(1, 11)]  # 1 to 10 words, 1 to 19 characters
    path = write("train.csv", "text,label\n" + "".join(f"{t} {i},x\n" for i, t in enumerate(texts)))
    stats = prepare(path, max_length=5, split=NO_SPLIT).report.splits["train"]
    assert stats.rows == 10 and stats.class_counts == {"x": 10}
    assert stats.tokens == {"p50": 7, "p90": 11, "p99": 11, "max": 11}
    assert stats.chars == {"p50": 13, "p90": 21, "p99": 21, "max": 21}
    assert stats.truncated == 0.6  # 6 of 10 texts have more than 5 tokens


def test_imbalance_and_unseen_labels_are_warned(write, prepare):
    train = write("train.csv", "text,label\n" + "".join(f"t{i},big\n" for i in range(44)) + "s1,small\ns2,small\n")
    validation = write("validation.csv", "text,label\nv1,big\nv2,new\n")
    report = prepare(train, validation=validation, split=SplitConfig(test=0)).report
    assert report.imbalance == (
        "imbalanced classes: 'small' has only 2 training row(s); 'big' has 44 training rows, 22 times as many as "
        "'small' (2); consider train.class_weights: balanced, or more data"
    )
    assert report.imbalance in report.warnings
    assert "validation has labels never seen in train: new; the model cannot learn them" in report.warnings


def test_balanced_classes_give_no_imbalance_warning(write, prepare):
    path = write("train.csv", "text,label\n" + "".join(f"t{i},{'ab'[i % 2]}\n" for i in range(20)))
    assert prepare(path, split=NO_SPLIT).report.imbalance is None


def test_report_forms_show_the_same_facts(write, prepare):
    rows = [
        "text,label",
        "call 13812345678 please,a",  # 2: a phone
        "hello,a",
        "HELLO!,a",  # 4: normalised duplicate
        "call 13912345678 now,b",  # 5, 6: the same text once phones are redacted, labels tied
        "call 13512345678 now,a",
        ",b",  # 7: empty text
        "谢谢你的帮助,b",  # GBK-encoded Chinese
        *(f"row {i},{'ab'[i % 2]}" for i in range(10)),
    ]
    path = write("train.csv", "\n".join(rows) + "\n", encoding="gbk")
    report = prepare(path, split=NO_SPLIT, on_error="skip", clean=CleanConfig(redact_pii=True)).report
    as_dict = json.loads(json.dumps(report.to_dict()))
    assert as_dict["files"][0]["encoding"] == "gb18030"
    assert as_dict["errors"][0]["line"] == 7 and as_dict["pii"] == {"PHONE": 3}
    markdown = report.to_markdown()
    for fact in [
        "| train | " + str(path) + " | csv | gb18030 | 17 | 1 |",
        "| normalised_duplicates | 1 |",
        "| conflicting_labels | 2 |",
        "| PHONE | 3 |",
        f"| {path} | 7 | text | empty text |",
    ]:
        assert fact in markdown
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(report.render())
    terminal = out.getvalue()
    assert "gb18030" in terminal and "Conflicting labels (1 groups, first 1 shown)" in terminal
    assert "call [PHONE] now" in terminal  # brackets in data are shown, not taken as rich markup
