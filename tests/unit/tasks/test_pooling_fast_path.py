"""The mean-pooling layer's fast path computes what the plain layer computes: outputs, gradients, dropout."""

import copy
from pathlib import Path

import pytest
import torch
from transformers import AutoModel

from tuneforge.tasks.text_classification.task import build_classifier


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(1000, 5000, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    mask[2, 2:] = 0
    return ids, mask


def _fast_and_plain(folder: Path, implementation: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    fast = build_classifier(str(folder), ["a", "b", "c"], "mean")
    fast.config._attn_implementation = implementation
    plain = copy.deepcopy(fast)
    del plain.base_model.encoder.layer[-1].forward  # transformers' own BertLayer.forward
    return fast, plain


def _keys_computed(model: torch.nn.Module) -> list[int]:
    calls: list[int] = []
    model.base_model.encoder.layer[-1].attention.self.key.register_forward_hook(lambda *_: calls.append(1))
    return calls


@pytest.mark.parametrize("implementation", ["sdpa", "eager"])
@pytest.mark.parametrize("padded", [True, False])
def test_fast_path_gives_the_plain_layers_logits(tiny_model_dir: Path, implementation: str, padded: bool) -> None:
    fast, plain = _fast_and_plain(tiny_model_dir, implementation)
    ids, mask = _batch()
    mask = mask if padded else torch.ones_like(mask)
    keys = _keys_computed(fast)
    with torch.no_grad():
        expected = plain.eval()(input_ids=ids, attention_mask=mask).logits
        got = fast.eval()(input_ids=ids, attention_mask=mask).logits
    assert not keys  # the fast path ran: no keys, no per-token projections in the pooling layer
    assert torch.allclose(got, expected, atol=1e-6)


def test_fast_path_gives_the_plain_layers_gradients(tiny_model_dir: Path, tmp_path: Path) -> None:
    no_dropout = tmp_path / "no-dropout"
    AutoModel.from_pretrained(
        tiny_model_dir, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    ).save_pretrained(no_dropout)
    fast, plain = _fast_and_plain(no_dropout, "sdpa")
    ids, mask = _batch()
    labels = torch.tensor([0, 1, 2])
    for model in (fast, plain):
        model.train()(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
    grads = {name: p.grad for name, p in plain.named_parameters()}
    pooling = fast.base_model.encoder.layer[-1]
    for name, param in fast.named_parameters():
        if name.endswith(("attention.self.query.weight", "attention.self.query.bias")) and ".layer.2." in name:
            assert param.grad is None and not param.requires_grad  # a zero query, kept zero: the pooling stays a mean
        elif param.grad is not None:
            assert torch.allclose(param.grad, grads[name], atol=1e-6), name
    assert pooling.attention.self.value.weight.grad.abs().sum() > 0  # the rest of the pooling layer trains
    assert pooling.attention.output.dense.weight.grad.abs().sum() > 0


def test_fast_path_drops_attention_as_the_plain_layer_does(tiny_model_dir: Path) -> None:
    """With attention dropout each head averages its own dropped-out tokens: the same distribution of outputs."""
    fast, plain = _fast_and_plain(tiny_model_dir, "sdpa")
    draws = 4000
    torch.manual_seed(2)
    hidden = torch.randn(1, 9, 32).expand(draws, -1, -1)
    mask = torch.ones(draws, 1, 9, 9, dtype=torch.bool)
    mask[..., 6:] = False
    moments = []
    for model in (fast, plain):
        layer = model.base_model.encoder.layer[-1].train()
        layer.attention.self.dropout.p = 0.5
        layer.attention.output.dropout.p = layer.output.dropout.p = 0.0  # only the attention's dropout differs
        with torch.no_grad():
            first = layer(hidden, mask)[:, 0]
        moments.append((first.mean(0), first.std(0)))
    (mean_fast, std_fast), (mean_plain, std_plain) = moments
    assert std_fast.min() > 0.01  # dropout did act
    assert torch.allclose(mean_fast, mean_plain, atol=4 * std_plain.max().item() / draws**0.5)
    assert torch.allclose(std_fast, std_plain, rtol=0.1)


def test_a_trained_query_falls_back_to_the_plain_layer(tiny_model_dir: Path) -> None:
    """A model whose pooling query is not zero (saved by an older tuneforge) is computed as the layer it is."""
    fast, plain = _fast_and_plain(tiny_model_dir, "sdpa")
    for model in (fast, plain):
        with torch.no_grad():
            torch.manual_seed(3)
            model.base_model.encoder.layer[-1].attention.self.query.weight.normal_()
    ids, mask = _batch()
    keys = _keys_computed(fast)
    with torch.no_grad():
        got = fast.eval()(input_ids=ids, attention_mask=mask).logits
        expected = plain.eval()(input_ids=ids, attention_mask=mask).logits
    assert keys and torch.allclose(got, expected, atol=1e-6)
