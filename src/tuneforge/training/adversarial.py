"""Adversarial training on the word embeddings: FGM (Miyato et al. 2017, "Adversarial Training Methods for
Semi-Supervised Text Classification").

After the clean loss's backward pass, each example's word vectors are moved by `epsilon` in the direction that
raises its loss fastest (the loss gradient at the embedding output, L2-normalised per example) and the loss at
that point is back-propagated as well: the model learns to keep its answer when the input moves a little in
meaning space. It regularises, most where data is small or noisy, at the cost of a second forward and backward.

The perturbation is applied to the output of the model's input-embedding module through a forward hook, so it
works whether or not that module is trained (LoRA and other methods freeze it). It is normalised per row of the
batch: the examples packed into one row (NER, chats) share one perturbation of length epsilon.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from tuneforge.errors import TuneforgeError

__all__ = ["EmbeddingAttack"]


class EmbeddingAttack:
    """`watch()` around the clean forward and backward, then `perturbed()` around the adversarial ones;
    `remove()` when training is over."""

    def __init__(self, model: torch.nn.Module, epsilon: float) -> None:
        get_embeddings = getattr(model, "get_input_embeddings", None)
        if get_embeddings is None:
            raise TuneforgeError(
                f"train.adversarial needs a model with input embeddings; {type(model).__name__} has none"
            )
        self.epsilon = epsilon
        self._mode: str | None = None
        self._clean: torch.Tensor | None = None
        self._delta: torch.Tensor | None = None
        self._handle = get_embeddings().register_forward_hook(self._hook)

    def _hook(self, module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor | None:
        if self._mode == "watch":
            if output.requires_grad:
                output.retain_grad()
            else:  # frozen embeddings: their output is a leaf, and can take a gradient of its own
                output.requires_grad_(True)
            self._clean = output
            return output
        if self._mode == "perturb":
            if self._delta is None or self._delta.shape != output.shape:
                raise TuneforgeError("the adversarial pass must embed the same batch as the clean pass before it")
            return output + self._delta.to(output.dtype)
        return None

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """Record the embedding output of the forward pass run inside, whose gradient the backward fills."""
        self._mode, self._clean = "watch", None
        try:
            yield
        finally:
            self._mode = None

    @contextlib.contextmanager
    def perturbed(self) -> Iterator[None]:
        """Run the forward pass inside on embeddings moved by epsilon along the watched pass's gradient."""
        grad = self._clean.grad if self._clean is not None else None
        if grad is None:
            raise TuneforgeError("no embedding gradient to attack: run the clean forward and backward in watch()")
        norms = grad.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, *[1] * (grad.dim() - 1))
        self._delta, self._clean, self._mode = (self.epsilon * grad / norms).detach(), None, "perturb"
        try:
            yield
        finally:
            self._mode, self._delta = None, None

    def remove(self) -> None:
        """Take the hook off the model, which goes on without it (evaluation, saving, serving)."""
        self._handle.remove()
