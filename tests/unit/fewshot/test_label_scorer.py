"""zeroshot-llm's scorer: cached, batched answer scoring equals scoring each prompt + answer from scratch."""

import pytest
import torch
from transformers import LlamaForCausalLM

from tuneforge.tasks.text_classification.fewshot import zeroshot_llm
from tuneforge.tasks.text_classification.fewshot.zeroshot_llm import LabelScorer

# 19 answers of 1 to 4 tokens: more than one batch of answers, and padding inside each batch.
ANSWERS = [[5 + i, *range(20, 20 + i % 4)] for i in range(19)]


def _naive(lm: torch.nn.Module, prompt: list[int], answer: list[int]) -> list[float]:
    """Log-probability of each answer token, from one forward pass over prompt + answer."""
    logits = lm(input_ids=torch.tensor([prompt + answer])).logits[0].log_softmax(-1)
    return [float(logits[len(prompt) - 1 + k, token]) for k, token in enumerate(answer)]


@pytest.mark.parametrize("score", ["sum", "mean"])
def test_cached_scores_equal_scoring_from_scratch(
    score: str, monkeypatch: pytest.MonkeyPatch, tiny_llama_config
) -> None:
    monkeypatch.setattr(zeroshot_llm, "ANSWERS_PER_BATCH", 8)
    torch.manual_seed(0)
    lm = LlamaForCausalLM(tiny_llama_config(60, max_position_embeddings=64)).eval()
    scorer = LabelScorer(lm, ANSWERS, score)
    prompts = [[1, 7, 9, 11, 3], [1, 4, 2]]
    ids = torch.zeros(2, 5, dtype=torch.long)  # right-padded, as batched_logits gives them
    mask = torch.zeros(2, 5, dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, : len(prompt)], mask[row, : len(prompt)] = torch.tensor(prompt), 1
    with torch.inference_mode():
        logits = scorer(input_ids=ids, attention_mask=mask).logits
        expected = [
            [sum(t) / (len(t) if score == "mean" else 1) for t in (_naive(lm, p, a) for a in ANSWERS)] for p in prompts
        ]
    assert logits.shape == (2, len(ANSWERS))
    assert torch.allclose(logits, torch.tensor(expected), atol=1e-4)
