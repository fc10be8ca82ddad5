"""Long texts in text classification: `predict_proba(texts, windows=True)` reads them in overlapping windows and
averages the windows' probabilities; texts that fit predict as without windows, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tuneforge.data.preprocess import TextPreprocessing
from tuneforge.errors import RunError
from tuneforge.tasks.text_classification.estimator import TextClassifier
from tuneforge.tasks.text_classification.task import TextClassification, build_classifier

LABELS = ["negative", "neutral", "positive"]
MAX_LENGTH = 16
SHORT = "the parcel came on time"
# Well over MAX_LENGTH tokens: three windows or more. The two long texts share their first MAX_LENGTH tokens.
HEAD = "i ordered a lamp for the study and waited two weeks before it finally arrived at the door "
LONG = HEAD + "and it works well, the light is warm and the switch is quiet"
OTHER_TAIL = HEAD + "but the glass was broken and nobody answered my emails about a refund at all"


def _classifier(model_dir: Path, preprocessing: TextPreprocessing | None = None) -> TextClassifier:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    torch.manual_seed(0)  # the fresh head: random but fixed
    model = build_classifier(str(model_dir), LABELS).eval()
    with torch.no_grad():  # a sharper head: the tiny random model's probabilities are otherwise near uniform
        model.classifier.weight.mul_(300)
    task = TextClassification(tokenizer, LABELS, MAX_LENGTH, None)
    return TextClassifier(task, model, batch_size=4, preprocessing=preprocessing)


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> TextClassifier:
    return _classifier(tiny_model_dir)


def _by_hand(model: torch.nn.Module, ids: list[int]) -> np.ndarray:
    """One window's probabilities, run alone (no batch, no padding)."""
    with torch.inference_mode():
        x = torch.tensor([ids])
        return model(input_ids=x, attention_mask=torch.ones_like(x)).logits.float().softmax(-1)[0].numpy()


def test_windows_cover_the_text_with_overlap(classifier: TextClassifier) -> None:
    tokenizer, task = classifier.tokenizer, classifier.task
    (windows,) = task.encode_windows([LONG])
    ids = [w["input_ids"] for w in windows]
    content = tokenizer(LONG, add_special_tokens=False)["input_ids"]
    size, shared = MAX_LENGTH - 2, MAX_LENGTH // 4  # [CLS] ... [SEP]; NER's default stride
    assert len(ids) >= 3
    assert ids[0] == task.encode([LONG])[0]["input_ids"]  # the first window is what the run trained on
    assert all(len(x) <= MAX_LENGTH for x in ids)
    assert all(x[0] == tokenizer.cls_token_id and x[-1] == tokenizer.sep_token_id for x in ids)
    for k, x in enumerate(ids):
        start = k * (size - shared)
        assert x[1:-1] == content[start : start + size]
    assert start + size >= len(content)  # the last window reaches the end
    assert task.encode_windows([SHORT]) == [task.encode([SHORT])]


def test_long_text_is_the_mean_of_its_windows(classifier: TextClassifier) -> None:
    (windows,) = classifier.task.encode_windows([LONG])
    expected = np.mean([_by_hand(classifier.model, w["input_ids"]) for w in windows], axis=0)
    windowed = classifier.predict_proba([SHORT, LONG], windows=True)
    np.testing.assert_allclose(windowed[1], expected, atol=1e-6)
    assert windowed.dtype == np.float32 and np.allclose(windowed.sum(1), 1)
    assert classifier.predict([SHORT, LONG], windows=True)[1].score == pytest.approx(float(windowed[1].max()))


def test_short_texts_are_unchanged_bit_for_bit(classifier: TextClassifier) -> None:
    texts = [SHORT, LONG, "where is my order", "refund please"]
    plain, windowed = classifier.predict_proba(texts), classifier.predict_proba(texts, windows=True)
    assert np.array_equal(plain[[0, 2, 3]], windowed[[0, 2, 3]])
    assert not np.array_equal(plain[1], windowed[1])
    shorts = [SHORT, "where is my order"]
    assert np.array_equal(classifier.predict_proba(shorts), classifier.predict_proba(shorts, windows=True))
    assert classifier.predict_proba([], windows=True).shape == (0, len(LABELS))


class _WordCounter(torch.nn.Module):
    """A classifier that reads one word: "positive" scores 3 per "great", "neutral" a constant 0.5."""

    def __init__(self, word_id: int) -> None:
        super().__init__()
        self.word_id, self.weight = word_id, torch.nn.Parameter(torch.zeros(()))  # batched_logits reads the device

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object) -> object:
        great = ((input_ids == self.word_id) & attention_mask.bool()).sum(1).float()
        logits = torch.stack([torch.zeros_like(great), torch.full_like(great, 0.5), 3 * great], 1) + self.weight
        return type("Output", (), {"logits": logits})()


def test_only_windows_read_the_decisive_tail(classifier: TextClassifier) -> None:
    task = classifier.task
    clf = TextClassifier(task, _WordCounter(task.tokenizer.convert_tokens_to_ids("great")))
    texts = [HEAD + "great " * 20, HEAD + "awful " * 20]
    assert clf.truncated(texts) == 2
    assert [p.label for p in clf.predict(texts)] == ["neutral", "neutral"]  # the model saw only HEAD
    assert [p.label for p in clf.predict(texts, windows=True)] == ["positive", "neutral"]

    plain = classifier.predict_proba([LONG, OTHER_TAIL])  # the random tiny BERT: tails differ, so do windows
    windowed = classifier.predict_proba([LONG, OTHER_TAIL], windows=True)
    assert np.array_equal(plain[0], plain[1])  # cut: the same first MAX_LENGTH tokens
    assert not np.array_equal(windowed[0], windowed[1])


def test_windows_read_the_preprocessed_text(tiny_model_dir: Path) -> None:
    clf = _classifier(tiny_model_dir, TextPreprocessing(normalize=True))
    full_width = LONG.replace("lamp", "ｌａｍｐ")
    assert clf.preprocess([full_width]) == [LONG]
    np.testing.assert_array_equal(
        clf.predict_proba([full_width], windows=True), clf.predict_proba([LONG], windows=True)
    )


def test_sentence_embedding_models_take_windows(tiny_model_dir: Path) -> None:
    """Zero-shot by similarity and SetFit classify sentence embeddings of the same input_ids: windows work."""
    from transformers import AutoModel, AutoTokenizer

    from tuneforge.embedding import SentenceEncoder, linear_head
    from tuneforge.tasks.text_classification.fewshot.encoder import EmbeddingClassifier, encoder_task

    torch.manual_seed(0)
    encoder = SentenceEncoder(AutoModel.from_pretrained(tiny_model_dir))
    model = EmbeddingClassifier(encoder, linear_head(torch.randn(3, encoder.dim) * 10, torch.zeros(3))).eval()
    clf = TextClassifier(encoder_task(AutoTokenizer.from_pretrained(tiny_model_dir), LABELS, MAX_LENGTH), model)
    (windows,) = clf.task.encode_windows([LONG])
    expected = np.mean([_by_hand(model, w["input_ids"]) for w in windows], axis=0)
    windowed = clf.predict_proba([SHORT, LONG], windows=True)
    np.testing.assert_allclose(windowed[1], expected, atol=1e-6)
    assert np.array_equal(windowed[0], clf.predict_proba([SHORT])[0])


def test_a_task_with_its_own_inputs_refuses_windows(classifier: TextClassifier) -> None:
    class Prompted(TextClassification):  # as zeroshot-llm's PromptedClassification: a prompt around each text
        def encode(self, texts, labels=None):  # type: ignore[no-untyped-def]
            return super().encode([f"Classify: {t}" for t in texts], labels)

    task = classifier.task
    prompted = Prompted(task.tokenizer, LABELS, MAX_LENGTH, None)
    with pytest.raises(RunError, match="predict without windows"):
        prompted.encode_windows([LONG])
