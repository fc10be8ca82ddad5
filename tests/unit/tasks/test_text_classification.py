"""Inference batching of text classification: chunks by length keep padding low."""

from tuneforge.tasks.text_classification import _length_chunks


def test_length_chunks_bound_padding_and_size() -> None:
    lengths = [10, 3, 9, 8, 2, 10, 7]
    chunks = _length_chunks(lengths, batch_size=3)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(len(lengths)))
    assert chunks[0] == [0, 5, 2]  # longest first, full at batch_size
    for chunk in chunks:
        width = max(lengths[i] for i in chunk)
        assert len(chunk) <= 3 and all(lengths[i] >= 0.7 * width for i in chunk)
    assert [lengths[i] for i in chunks[1]] == [8, 7]  # 3 would be 62% padding: a chunk of its own
