"""Methods on a tiny BERT: what trains, the first-token speed-up under every method, prefix positions."""

import pytest
import torch
from pydantic import TypeAdapter
from transformers import BertConfig, BertForSequenceClassification

from tuneforge.config import MethodConfig
from tuneforge.errors import ConfigError
from tuneforge.methods import METHODS, apply_method
from tuneforge.methods.base import head_modules
from tuneforge.tasks.text_classification.first_token import first_token_last_layer

ADAPTING = [name for name, method in METHODS.items() if not method.fits_itself]
VOCAB = 500
IDS = torch.randint(5, VOCAB, (4, 9), generator=torch.Generator().manual_seed(0))
MASK = torch.ones_like(IDS)
MASK[1, 5:] = 0
MASK[3, 2:] = 0


@pytest.fixture(scope="module")
def config(tiny_bert_config) -> BertConfig:
    return tiny_bert_config(VOCAB, max_position_embeddings=64, num_labels=3)


def _model(config: BertConfig, name: str, *, fast: bool) -> torch.nn.Module:
    torch.manual_seed(0)
    base = BertForSequenceClassification(config)
    if fast:
        assert first_token_last_layer(base)
    torch.manual_seed(1)
    model = apply_method(base, TypeAdapter(MethodConfig).validate_python({"name": name}))
    with torch.no_grad():  # move trained weights off their identity initialisation
        for param in model.parameters():
            if param.requires_grad:
                param.add_(0.1 * torch.randn_like(param))
    return model.eval()


@pytest.mark.parametrize("name", ADAPTING)
def test_first_token_speed_up_is_exact_under_every_method(config: BertConfig, name: str) -> None:
    plain, fast = _model(config, name, fast=False), _model(config, name, fast=True)
    expected = plain(input_ids=IDS, attention_mask=MASK).logits
    assert torch.allclose(fast(input_ids=IDS, attention_mask=MASK).logits, expected, atol=1e-5)
    # Padding does not leak into a text's result: row 3 alone, unpadded, scores the same.
    alone = fast(input_ids=IDS[3:, :2], attention_mask=MASK[3:, :2]).logits
    assert torch.allclose(alone, expected[3:], atol=1e-5)


@pytest.mark.parametrize("name", [n for n in ADAPTING if n != "full"])
def test_head_always_trains_and_body_mostly_not(config: BertConfig, name: str) -> None:
    model = _model(config, name, fast=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(".classifier." in f".{n}" for n in trainable), "the head must train"
    assert not any("word_embeddings" in n for n in trainable)


def test_lora_targets_every_encoder_linear_and_the_pooler(config: BertConfig) -> None:
    model = _model(config, "lora", fast=False)
    adapted = {n.split(".lora_A")[0].split("bert.")[-1] for n, _ in model.named_parameters() if "lora_A" in n}
    assert "pooler.dense" in adapted
    for suffix in ("query", "key", "value", "attention.output.dense", "intermediate.dense", "0.output.dense"):
        assert any(a.endswith(suffix) for a in adapted), suffix


def test_prefix_keeps_text_at_pretrained_positions(config: BertConfig) -> None:
    model = _model(config, "prefix", fast=True)
    seen = []
    embeddings = model.get_base_model().bert.embeddings.position_embeddings
    embeddings.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    model(input_ids=IDS, attention_mask=MASK)
    assert seen[0][0].tolist() == list(range(IDS.shape[1]))


def test_head_modules_need_a_body(config: BertConfig) -> None:
    assert head_modules(BertForSequenceClassification(config)) == ["classifier"]
    with pytest.raises(ConfigError, match="no separate pretrained body"):
        head_modules(torch.nn.Linear(2, 2))
