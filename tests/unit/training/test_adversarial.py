"""FGM on a tiny BERT classifier: the perturbation has the set length, points uphill, and trains with any method."""

from pathlib import Path

import pytest
import torch
from accelerate import Accelerator
from pydantic import TypeAdapter
from transformers import AutoTokenizer

from tuneforge.config import MethodConfig, TrainConfig
from tuneforge.methods import apply_method
from tuneforge.tasks.text_classification.task import TextClassification, build_classifier
from tuneforge.training.adversarial import EmbeddingAttack
from tuneforge.training.loop import fit

TEXTS = ["order 7 refund please", "where is my parcel", "refund me now", "parcel 12 is late again"]
LABELS = ["refund", "delivery", "refund", "delivery"]


def _setup(model_dir: Path, method: str = "full"):
    torch.manual_seed(0)
    task = TextClassification(AutoTokenizer.from_pretrained(model_dir), ["refund", "delivery"], 16, None)
    block = TypeAdapter(MethodConfig).validate_python({"name": method})
    model = apply_method(build_classifier(str(model_dir), task.labels), block)
    return task, model.eval(), task.collate(task.encode(TEXTS, LABELS))


def _embedding_outputs(model: torch.nn.Module) -> list[torch.Tensor]:
    seen: list[torch.Tensor] = []
    model.get_input_embeddings().register_forward_hook(lambda module, inputs, output: seen.append(output.detach()))
    return seen


@pytest.mark.parametrize("method", ["full", "lora"])  # lora freezes the embeddings
def test_perturbation_has_length_epsilon_and_raises_the_loss(tiny_model_dir: Path, method: str) -> None:
    task, model, batch = _setup(tiny_model_dir, method)
    attack = EmbeddingAttack(model, epsilon=0.05)
    seen = _embedding_outputs(model)  # registered after the attack's hook: sees the perturbed output
    with attack.watch():
        clean = task.loss(model, batch)
        clean.backward()
    with attack.perturbed(), torch.no_grad():
        uphill = task.loss(model, batch)
    assert uphill > clean
    delta = (seen[1] - seen[0]).flatten(1).norm(dim=1)
    torch.testing.assert_close(delta, torch.full((len(TEXTS),), 0.05))
    with torch.no_grad():  # outside the contexts the hook leaves the embeddings alone
        assert task.loss(model, batch) == clean
    attack.remove()
    assert len(model.get_input_embeddings()._forward_hooks) == 1  # the test's own


def test_perturbed_needs_a_watched_backward(tiny_model_dir: Path) -> None:
    _, model, _ = _setup(tiny_model_dir)
    with pytest.raises(Exception, match="no embedding gradient"), EmbeddingAttack(model, 1.0).perturbed():
        pass


def _train(model_dir: Path, ckpt_dir: Path, adversarial: dict | None) -> tuple[float, list[torch.Tensor]]:
    task, model, _ = _setup(model_dir)
    features = task.encode(
        [f"order {i} refund please" for i in range(24)] + [f"where is parcel {i} now" for i in range(24)],
        ["refund"] * 24 + ["delivery"] * 24,
    )
    result = fit(
        model,
        features,
        collate=task.collate,
        loss_fn=task.loss,
        evaluate=lambda m: task.evaluate(m, features, batch_size=8, accelerator=None),
        cfg=TrainConfig(epochs=6, batch_size=8, lr=2e-3, early_stopping=None, adversarial=adversarial),
        ckpt_dir=ckpt_dir,
        accelerator=Accelerator(cpu=True),
    )
    assert not model.get_input_embeddings()._forward_hooks  # the loop took its hook off
    return result.state.history[-1]["accuracy"], [p.detach().clone() for p in model.parameters()]


def test_loop_trains_with_fgm_and_differs_from_without(tiny_model_dir: Path, tmp_path: Path) -> None:
    plain_accuracy, plain = _train(tiny_model_dir, tmp_path / "plain", None)
    # epsilon for the tiny model, whose word vectors are ~0.1 long (MiniLM's: ~1.1)
    fgm_accuracy, fgm = _train(tiny_model_dir, tmp_path / "fgm", {"epsilon": 0.005})
    assert plain_accuracy == fgm_accuracy == 1.0
    assert any(not torch.equal(a, b) for a, b in zip(plain, fgm, strict=True))


def test_sentence_encoder_of_setfit_can_be_attacked(tiny_model_dir: Path) -> None:
    from tuneforge.embedding import SentenceEncoder

    _, _, batch = _setup(tiny_model_dir)
    encoder = SentenceEncoder.from_pretrained(tiny_model_dir).eval()
    attack = EmbeddingAttack(encoder, epsilon=0.05)
    with attack.watch():
        clean = encoder(batch["input_ids"], batch["attention_mask"])
        (clean[0] @ clean[1]).backward()  # pull two texts' embeddings together
    with attack.perturbed(), torch.no_grad():
        moved = encoder(batch["input_ids"], batch["attention_mask"])
    assert moved[0] @ moved[1] > clean[0] @ clean[1]  # uphill: the attack raises what was backpropagated
