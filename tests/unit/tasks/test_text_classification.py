"""Inference batching of text classification: chunks by length keep padding low."""

from tuneforge.tasks.text_classification.task import _length_chunks


def test_length_chunks_bound_padding_and_size() -> None:
    lengths = [10, 3, 9, 8, 2, 10, 7]
    chunks = _length_chunks(lengths, batch_size=3)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(len(lengths)))
    assert chunks[0] == [0, 5, 2]  # longest first, full at batch_size
    for chunk in chunks:
        width = max(lengths[i] for i in chunk)
        assert len(chunk) <= 3 and all(lengths[i] >= 0.7 * width for i in chunk)
    assert [lengths[i] for i in chunks[1]] == [8, 7]  # 3 would be 62% padding: a chunk of its own


def test_label_smoothing_spreads_the_target(tiny_model_dir) -> None:
    import torch
    from transformers import AutoTokenizer

    from tuneforge.tasks.text_classification.task import TextClassification

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    logits = torch.tensor([[8.0, 0.0, 0.0]])  # confident and right
    model = lambda **_: type("Out", (), {"logits": logits})()  # noqa: E731
    batch = {
        "input_ids": torch.ones(1, 3, dtype=torch.long),
        "attention_mask": torch.ones(1, 3),
        "labels": torch.tensor([0]),
    }
    plain = TextClassification(tokenizer, ["a", "b", "c"], 16, None).loss(model, batch)
    smoothed = TextClassification(tokenizer, ["a", "b", "c"], 16, None, label_smoothing=0.3).loss(model, batch)
    expected = -(0.8 * logits.log_softmax(-1)[0, 0] + 0.1 * logits.log_softmax(-1)[0, 1:].sum())
    assert abs(float(smoothed - expected)) < 1e-5
    assert smoothed > plain
