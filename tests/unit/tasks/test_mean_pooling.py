import json
import shutil
from pathlib import Path

import pytest
import torch
from transformers import AutoModel, AutoModelForSequenceClassification

from tuneforge.errors import ConfigError
from tuneforge.tasks.text_classification.mean_pooling import checkpoint_pooling
from tuneforge.tasks.text_classification.task import build_classifier


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(1000, 5000, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    mask[2, 2:] = 0
    return ids, mask


def test_head_reads_the_normalised_mean_of_the_texts_tokens(tiny_model_dir: Path) -> None:
    encoder = AutoModel.from_pretrained(tiny_model_dir).eval()
    model = build_classifier(str(tiny_model_dir), ["a", "b", "c"], "mean").eval()
    assert model.config.num_hidden_layers == encoder.config.num_hidden_layers + 1
    ids, mask = _batch()
    with torch.no_grad():
        hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state  # padding must not count
        mean = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        normed = torch.nn.functional.layer_norm(mean, mean.shape[-1:], eps=encoder.config.layer_norm_eps)
        expected = 0.25 * normed  # a spread that keeps the pooler's tanh near linear
        first = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]
    assert torch.allclose(first, expected, atol=3e-3)  # [CLS] adds its own vector / 1024 inside the LayerNorm


def test_saved_model_is_a_plain_classifier_and_not_pooled_twice(tiny_model_dir: Path, tmp_path: Path) -> None:
    model = build_classifier(str(tiny_model_dir), ["a", "b"], "mean").eval()
    model.save_pretrained(tmp_path)
    ids, mask = _batch()
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    again = build_classifier(str(tmp_path), ["a", "b"], "mean").eval()  # reloading a run's model/ adds nothing
    assert plain.config.num_hidden_layers == again.config.num_hidden_layers == model.config.num_hidden_layers
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
        assert torch.allclose(plain(input_ids=ids, attention_mask=mask).logits, logits, atol=1e-6)
        assert torch.allclose(again(input_ids=ids, attention_mask=mask).logits, logits, atol=1e-6)


def test_the_pooling_layer_trains_and_stays_a_mean(tiny_model_dir: Path) -> None:
    model = build_classifier(str(tiny_model_dir), ["a", "b"], "mean")
    ids, mask = _batch()
    model(input_ids=ids, attention_mask=mask, labels=torch.tensor([0, 1, 1])).loss.backward()
    pooling = model.base_model.encoder.layer[-1].attention
    assert pooling.self.value.weight.grad.abs().sum() > 0 and pooling.output.dense.weight.grad.abs().sum() > 0
    assert pooling.self.query.weight.grad is None  # a zero query, kept: equal weights for every token


def test_other_encoders_are_refused(tmp_path: Path) -> None:
    from transformers import DistilBertConfig, DistilBertModel

    DistilBertModel(DistilBertConfig(vocab_size=100, dim=32, hidden_dim=64, n_layers=1, n_heads=2)).save_pretrained(
        tmp_path
    )
    with pytest.raises(ConfigError, match="pooling: mean needs a BERT-family encoder; distilbert"):
        build_classifier(str(tmp_path), ["a", "b"], "mean")
    assert build_classifier(str(tmp_path), ["a", "b"], "cls").config.model_type == "distilbert"


@pytest.mark.parametrize(("mean_tokens", "expected"), [(True, "mean"), (False, "cls")])
def test_checkpoint_pooling_reads_the_sentence_transformers_config(
    tiny_model_dir: Path, tmp_path: Path, mean_tokens: bool, expected: str
) -> None:
    folder = tmp_path / "st"
    shutil.copytree(tiny_model_dir, folder)
    assert checkpoint_pooling(str(folder)) == "cls"  # no modules.json: a plain transformers checkpoint
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    settings = {"pooling_mode_mean_tokens": mean_tokens, "pooling_mode_cls_token": not mean_tokens}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(settings))
    assert checkpoint_pooling(str(folder)) == expected


def test_the_packaged_minilm_pools_by_mean() -> None:
    from tuneforge.models import resolve_model

    assert checkpoint_pooling(resolve_model("minilm")) == "mean"
