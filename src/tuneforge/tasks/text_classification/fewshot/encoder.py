"""The classifier on top of sentence embeddings (`tuneforge.embedding`), shared by zero-shot by similarity and
SetFit: a linear head over the encoder's normalised vectors, saved beside the run as `head.safetensors`.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import PreTrainedTokenizerBase
from transformers.modeling_outputs import SequenceClassifierOutput

from tuneforge.embedding import SentenceEncoder, linear_head
from tuneforge.tasks.text_classification.task import TextClassification

__all__ = ["EmbeddingClassifier", "encoder_task", "load_head", "save_head"]

HEAD_FILE = "head.safetensors"


class EmbeddingClassifier(torch.nn.Module):
    """Label scores as a linear map of the sentence embedding: `head(encoder(text))`.

    Zero-shot: the head's rows are the labels' embeddings (scores are scaled cosine similarities); SetFit: they
    are a logistic regression's coefficients, so the softmax of the scores is its predicted probability.
    """

    def __init__(self, encoder: SentenceEncoder, head: torch.nn.Linear) -> None:
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object) -> SequenceClassifierOutput:
        return SequenceClassifierOutput(logits=self.head(self.encoder(input_ids, attention_mask)))


def encoder_task(tokenizer: PreTrainedTokenizerBase, labels: list[str], max_length: int) -> TextClassification:
    """The task that tokenizes texts for the encoder ([CLS] text [SEP], truncated)."""
    return TextClassification(tokenizer, labels, max_length, None)


def save_head(head: torch.nn.Linear, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {"weight": head.weight.detach().cpu().contiguous(), "bias": head.bias.detach().cpu().contiguous()}
    save_file(tensors, folder / HEAD_FILE)


def load_head(folder: Path) -> torch.nn.Linear:
    tensors = load_file(folder / HEAD_FILE)
    return linear_head(tensors["weight"], tensors["bias"])
