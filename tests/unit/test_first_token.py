from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from tuneforge.tasks.text_classification.first_token import first_token_last_layer


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_same_logits_and_gradients(tiny_model_dir: Path, attention: str) -> None:
    torch.manual_seed(0)
    plain = AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir, num_labels=3, attn_implementation=attention
    )
    fast = AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir, num_labels=3, attn_implementation=attention
    )
    fast.load_state_dict(plain.state_dict())
    assert first_token_last_layer(fast)
    ids = torch.randint(1000, 5000, (4, 9))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    mask[3, 2:] = 0
    for m in (plain, fast):
        m.eval()
        m(input_ids=ids, attention_mask=mask).logits.sum().backward()
    assert torch.allclose(
        plain(input_ids=ids, attention_mask=mask).logits, fast(input_ids=ids, attention_mask=mask).logits, atol=1e-5
    )
    grads = {n: p.grad for n, p in fast.named_parameters() if p.grad is not None}
    for name, param in plain.named_parameters():
        if param.grad is not None and param.grad.abs().sum() > 0:
            assert torch.allclose(param.grad, grads[name], atol=1e-5), name
    assert plain.state_dict().keys() == fast.state_dict().keys()


def test_not_applied_to_other_heads() -> None:
    assert not first_token_last_layer(torch.nn.Linear(2, 2))
