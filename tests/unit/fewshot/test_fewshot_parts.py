"""SetFit's per-label sample and pairs, zero-shot label texts and prompts, and the config blocks' own errors."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter

from tuneforge.config import MethodConfig, load_config
from tuneforge.data import Example
from tuneforge.errors import ConfigError, DataError
from tuneforge.tasks.text_classification.fewshot.base import label_name
from tuneforge.tasks.text_classification.fewshot.setfit import (
    _ranking_loss,
    described,
    make_pairs,
    ranking_batches,
    sample_shots,
)
from tuneforge.tasks.text_classification.fewshot.zeroshot_embed import label_texts

LABELS = ["a", "b", "c"]
EXAMPLES = [
    Example(text=f"{label} {i}", label=label, source="train.csv", line=i)
    for label, n in zip(LABELS, (10, 6, 2), strict=True)
    for i in range(n)
]


def _method(**block: object):
    return TypeAdapter(MethodConfig).validate_python(block)


def test_shots_are_sampled_per_label_with_a_seed() -> None:
    sample = sample_shots(EXAMPLES, LABELS, 4, seed=1)
    assert Counter(e.label for e in sample) == {"a": 4, "b": 4, "c": 2}  # a label with fewer keeps all it has
    assert len({e.text for e in sample}) == len(sample)
    assert sample == sample_shots(EXAMPLES, LABELS, 4, seed=1)
    assert sample != sample_shots(EXAMPLES, LABELS, 4, seed=2)
    # Each label draws with its own seed: dropping label c leaves the sample of a and b as it was.
    without_c = [e for e in EXAMPLES if e.label != "c"]
    assert sample_shots(without_c, ["a", "b"], 4, seed=1) == [e for e in sample if e.label != "c"]
    assert sample_shots(EXAMPLES, LABELS, None, seed=1) == EXAMPLES


def test_every_label_needs_an_example() -> None:
    with pytest.raises(DataError, match="none for: d"):
        sample_shots(EXAMPLES, [*LABELS, "d"], 4, seed=1)


def test_pairs_are_balanced_and_never_a_text_with_itself() -> None:
    labels = [0, 0, 0, 1, 1, 2, 2]
    pairs = make_pairs(labels, iterations=5, seed=0)
    assert len(pairs) == 2 * 5 * len(labels)
    for i, j, target in pairs:
        assert (labels[i] == labels[j]) == (target == 1.0)
        assert i != j
    assert pairs == make_pairs(labels, iterations=5, seed=0) != make_pairs(labels, iterations=5, seed=1)
    partners = {j for i, j, target in pairs if i == 0 and target == 1.0}
    assert partners == {1, 2}  # uniform over the label's other texts, so both show up in 5 draws here


def test_a_lone_example_pairs_with_itself_as_the_positive() -> None:
    assert [(i, j) for i, j, t in make_pairs([0, 1], iterations=1, seed=0) if t == 1.0] == [(0, 0), (1, 1)]


def test_ranking_batches_hold_distinct_labels_and_every_text_once_per_iteration() -> None:
    labels = [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4]
    batches = ranking_batches(labels, iterations=3, batch_size=2, seed=0)
    assert all(len({labels[i] for i, _ in batch}) == len(batch) <= 2 for batch in batches)
    assert all(labels[i] == labels[j] and (i != j or labels.count(labels[i]) == 1) for b in batches for i, j in b)
    assert Counter(i for batch in batches for i, _ in batch) == dict.fromkeys(range(len(labels)), 3)
    assert batches == ranking_batches(labels, 3, 2, seed=0) != ranking_batches(labels, 3, 2, seed=1)


def test_hard_negative_batches_gather_labels_that_lie_close() -> None:
    # Labels 0 and 1 point one way, 2 and 3 another: with the vectors a batch of two never mixes the pairs.
    vectors = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.14, 0.99]])
    labels = [0, 0, 1, 1, 2, 2, 3, 3]
    near = ranking_batches(labels, iterations=5, batch_size=2, seed=0, label_vectors=vectors)
    assert {frozenset(labels[i] // 2 for i, _ in batch) for batch in near} == {frozenset({0}), frozenset({1})}
    mixed = ranking_batches(labels, iterations=5, batch_size=2, seed=0)
    assert any(len({labels[i] // 2 for i, _ in batch}) == 2 for batch in mixed)


class _Fixed(torch.nn.Module):
    """Returns the given embeddings whatever the input: first texts, then their partners."""

    def __init__(self, embeddings: torch.Tensor) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.embeddings = embeddings

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.embeddings


def test_ranking_loss_does_not_count_same_label_partners_as_wrong() -> None:
    torch.manual_seed(0)
    first = torch.nn.functional.normalize(torch.randn(3, 8), dim=-1)
    second = torch.nn.functional.normalize(torch.randn(3, 8), dim=-1)
    batch = {"input_ids": torch.zeros(6, 2), "attention_mask": torch.ones(6, 2), "labels": torch.tensor([0.0, 0, 1])}
    loss = _ranking_loss(_Fixed(torch.cat([first, second])), batch)
    scores = 20 * first @ second.T
    scores[0, 1] = scores[1, 0] = float("-inf")  # texts 0 and 1 share a label
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(scores, torch.arange(3))), abs=1e-5)
    unmasked = torch.nn.functional.cross_entropy(20 * first @ second.T, torch.arange(3))
    assert float(unmasked) > float(loss)


def test_label_texts_default_to_names_and_use_the_template() -> None:
    assert label_name("Refund_not_showing-up") == "Refund not showing up"
    method = _method(name="zeroshot-embed", template="About {label}.", descriptions={"a": ["x", "y"], "b": "z"})
    assert label_texts(method, ["a", "b", "card_arrival"]) == {
        "a": ["About x.", "About y."],
        "b": ["About z."],
        "card_arrival": ["About card arrival."],
    }
    with pytest.raises(ConfigError, match="not in the data: q"):
        label_texts(_method(name="zeroshot-embed", descriptions={"q": "?"}), ["a"])


def test_setfit_descriptions_become_examples_of_their_labels() -> None:
    method = _method(name="setfit", shots=2, descriptions={"a": ["about a", "all of a"], "c": "see c"})
    assert [(e.text, e.label) for e in described(method, LABELS)] == [
        ("about a", "a"),
        ("all of a", "a"),
        ("see c", "c"),
    ]
    assert described(_method(name="setfit"), LABELS) == []
    with pytest.raises(ConfigError, match="setfit.*not in the data: q"):
        described(_method(name="setfit", descriptions={"q": "?"}), LABELS)


def test_descriptions_can_come_from_a_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "intents.yaml").write_text("a: about a\nb: [bee, b's]\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    for name in ("setfit", "zeroshot-embed"):
        method = load_config(_config(tmp_path, f"{{name: {name}, descriptions: {tmp_path / 'intents.yaml'}}}")).method
        assert method.descriptions == {"a": "about a", "b": ["bee", "b's"]}
    with pytest.raises(ConfigError, match="'method.descriptions'.*missing.yaml does not exist"):
        load_config(_config(tmp_path, f"{{name: setfit, descriptions: {tmp_path / 'missing.yaml'}}}"))
    with pytest.raises(ConfigError, match="list.yaml: expected a mapping of label: description"):
        load_config(_config(tmp_path, f"{{name: setfit, descriptions: {tmp_path / 'list.yaml'}}}"))


def _config(tmp_path: Path, method: str) -> Path:
    (tmp_path / "train.csv").write_text("text,label\nhi,a\n")
    path = tmp_path / "cfg.yaml"
    path.write_text(f"data: {{train: {tmp_path / 'train.csv'}}}\nmethod: {method}\n")
    return path


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{name: setfit, shot: 8}", "unknown key 'method.shot' (did you mean 'shots'?)"),
        ("{name: setfit, shots: 0}", "'method.shots': Input should be greater than or equal to 1"),
        ("{name: setfit, template: x}", "unknown key 'method.template'"),  # a key of another few-shot block
        ("{name: setfit, hard_negatives: true}", "hard_negatives needs loss: ranking"),
        ("{name: zeroshot-embed, template: 'about it'}", "'method.template': Value error, must contain {label}"),
        ("{name: zeroshot-embed, template: '{lable}'}", "unknown placeholder(s) ['lable']"),
        ("{name: zeroshot-llm, prompt: 'Classify.'}", "'method.prompt': Value error, must contain {text}"),
        ("{name: zeroshot-llm, score: max}", "'method.score': Input should be 'sum' or 'mean'"),
        ("{name: zeroshot-llm, descriptions: {a: [x, y]}}", "'method.descriptions.a'"),
        ("{name: zeroshot-emb}", "unknown name 'zeroshot-emb' (did you mean 'zeroshot-embed'?)"),
    ],
)
def test_bad_blocks_are_reported_with_their_key(tmp_path: Path, block: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, block))
    assert message in str(info.value)


def test_good_blocks_and_defaults(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, "setfit"), ["method.shots=8"])
    assert (cfg.method.shots, cfg.method.iterations, cfg.method.epochs, cfg.method.head_c) == (8, 20, 1, 1.0)
    llm = load_config(_config(tmp_path, "zeroshot-llm")).method
    assert (llm.model, llm.score) == ("smollm2", "mean") and "{text}" in llm.prompt
