"""CoNLL and span-JSONL readers: every format read into IOB2 words, every malformed case a file:line problem."""

import json
from pathlib import Path

import pytest

from tuneforge.config import DataConfig, NerDataConfig
from tuneforge.errors import DataError
from tuneforge.tasks.token_classification.conll import read_conll
from tuneforge.tasks.token_classification.prepare import prepare_tagged_data, read_tagged
from tuneforge.tasks.token_classification.tags import detect_scheme, entities_of, split_words, to_iob2


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(tmp_path: Path, records: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return _write(tmp_path, "spans.jsonl", "\n".join(lines) + "\n")


CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""


def test_conll_iob2_with_docstart_and_tag_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.conll", CONLL)
    file = read_conll(path, NerDataConfig(), labels=None)
    assert [s.words for s in file.sentences] == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert file.sentences[1].tags == ("B-PER", "I-PER") and file.sentences[1].line == 7
    assert file.scheme == "iob2" and not file.errors
    # Column 2 holds chunk tags: a configurable tag column reads those instead.
    chunks = read_conll(path, NerDataConfig(tag_column=2), labels=None)
    assert chunks.sentences[0].tags == ("B-NP", "B-VP", "B-NP")


def test_conll_iob1_and_bioes_normalised_to_iob2(tmp_path: Path) -> None:
    iob1 = _write(tmp_path, "iob1.txt", "Peter I-PER\nBlackburn I-PER\nJohn B-PER\nsaid O\n")
    file = read_conll(iob1, NerDataConfig(), labels=None)
    assert file.scheme == "iob1" and file.sentences[0].tags == ("B-PER", "I-PER", "B-PER", "O")
    bioes = _write(tmp_path, "bioes.txt", "New B-LOC\nYork E-LOC\nand O\nParis S-LOC\n")
    file = read_conll(bioes, NerDataConfig(), labels=None)
    assert file.scheme == "bioes" and file.sentences[0].tags == ("B-LOC", "I-LOC", "O", "B-LOC")


@pytest.mark.parametrize(
    ("policy", "tags"), [("begin", ("O", "B-PER", "I-PER", "O")), ("outside", ("O", "O", "O", "O"))]
)
def test_stray_inside_is_reported_and_repaired(tmp_path: Path, policy: str, tags: tuple) -> None:
    path = _write(tmp_path, "stray.conll", "the O\nPeter I-PER\nBlackburn I-PER\nsaid O\n")
    file = read_conll(path, NerDataConfig(scheme="iob2", stray_inside=policy), labels=None)
    assert file.sentences[0].tags == tags
    assert f"{path}" in file.warnings[0] and "lines 2" in file.warnings[0]


def test_stray_inside_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "stray.conll", "ok O\n\nthe O\nPeter I-PER\n")
    file = read_conll(path, NerDataConfig(scheme="iob2", stray_inside="error"), labels=None)
    assert [str(e) for e in file.errors] == [
        f"{path}:4: field 'tag': stray I- tag: 'I-PER' after 'O' follows no entity of its type "
        "(data.ner.stray_inside: error)"
    ]
    assert [s.words for s in file.sentences] == [["ok"]]


def test_conll_unknown_tags_and_missing_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.conll", "Peter B-PER\nParis B-CITY\n\nhello\n\nx X-PER\n")
    file = read_conll(path, NerDataConfig(), labels=["PER"])
    messages = [str(e) for e in file.errors]
    assert messages[0].startswith(f"{path}:4: field 'tag': expected at least 2")
    assert messages[1].startswith(f"{path}:2: field 'tag': unknown tag 'B-CITY'")
    assert messages[2].startswith(f"{path}:6: field 'tag': unknown tag 'X-PER'")
    assert file.sentences == []


def test_span_jsonl_shapes_and_chinese_characters(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path,
        [
            {"text": "张伟在北京下单", "entities": [{"start": 0, "end": 2, "label": "PER"}, [3, 5, "CITY"]]},
            {"text": "Ship to New York.", "label": [[8, 16, "CITY"]]},  # doccano
            {"text": "Hi Anna", "entities": [{"value": {"start": 3, "end": 7, "labels": ["PER"]}}]},  # Label Studio
            {"text": "Hi Anna ", "entities": [{"start": 2, "end": 8, "label": "PER"}]},  # spaces around a selection
        ],
    )
    file = read_tagged(path, DataConfig(train=path))
    assert not file.errors
    chinese, english, studio, padded = file.sentences
    assert chinese.words == list("张伟在北京下单")
    assert chinese.tags == ("B-PER", "I-PER", "O", "B-CITY", "I-CITY", "O", "O")
    assert english.tags == ("O", "O", "B-CITY", "I-CITY", "O") and english.line == 2
    assert studio.tags == padded.tags == ("O", "B-PER")


def test_span_jsonl_problems_name_file_and_line(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path,
        [
            {"text": "Anna in Paris", "entities": [[0, 4, "PER"]]},
            {"text": "Anna", "entities": [[0, 9, "PER"]]},
            {"text": "Anna Lee", "entities": [[0, 8, "PER"], [5, 8, "PER"]]},
            {"text": "Annabel", "entities": [[0, 4, "PER"]]},
            {"text": "Paris", "entities": [[0, 5, "TOWN"]]},
            '{"text": "broken"',
            {"entities": []},
            {"text": "x", "entities": [{"begin": 0}]},
        ],
    )
    file = read_tagged(path, DataConfig(train=path, labels=["PER", "CITY"]))
    problems = {e.line: str(e) for e in file.errors}
    assert len(file.sentences) == 1 and file.sentences[0].line == 1
    assert "outside the text (0-4)" in problems[2] and problems[2].startswith(f"{path}:2: field 'entities'")
    assert "overlap" in problems[3]
    assert "cuts a word" in problems[4] and "Annabel" in problems[4]
    assert "'TOWN' is not in data.labels" in problems[5]
    assert problems[6].startswith(f"{path}:6: ") and "invalid JSON" in problems[6]
    assert problems[7].startswith(f"{path}:7: field 'text'")
    assert "expected {start, end, label}" in problems[8]


def test_prepare_fails_listing_problems_or_skips(tmp_path: Path) -> None:
    good = [{"text": f"Anna lives in Paris {i}", "entities": [[0, 4, "PER"], [14, 19, "CITY"]]} for i in range(20)]
    path = _jsonl(tmp_path, [*good[:5], {"text": "Paris", "entities": [[0, 3, "CITY"]]}, *good[5:]])
    with pytest.raises(DataError) as caught:
        prepare_tagged_data(DataConfig(train=path), max_length=32)
    assert caught.value.problems[0].startswith(f"{path}:6:")
    data = prepare_tagged_data(DataConfig(train=path, on_error="skip"), max_length=32)
    assert [e.line for e in data.rejected] == [6] and data.labels == ["CITY", "PER"]
    assert len(data.train) + len(data.validation) + len(data.test) == 20
    assert data.report.splits["train"].class_counts == {"CITY": len(data.train), "PER": len(data.train)}
    assert data.report.dropped["rejected"] == 1


def test_split_words_and_tags() -> None:
    text = "张伟 (CEO) flew to New-York, didn't he? Ｏ１"
    words = [text[s:e] for s, e in split_words(text)]
    assert words == [
        "张",
        "伟",
        "(",
        "CEO",
        ")",
        "flew",
        "to",
        "New",
        "-",
        "York",
        ",",
        "didn",
        "'",
        "t",
        "he",
        "?",
        "Ｏ１",
    ]
    assert to_iob2(["O", "I-PER"], "iob2") == (["O", "I-PER"], [1])
    assert detect_scheme([["B-PER", "O", "I-LOC"]]) == "iob2"
    assert [(e.start, e.end, e.label) for e in entities_of(["B-A", "I-A", "I-B", "B-B", "O"])] == [
        (0, 2, "A"),
        (2, 3, "B"),
        (3, 4, "B"),
    ]
