"""The config blocks of the zero- and few-shot methods: zeroshot-embed, zeroshot-llm and setfit.

Kept free of torch: tuneforge.config reads them, and `import tuneforge.config` stays light.

>>> ZeroShotEmbedMethod(name="zeroshot-embed", template="About {label}.").descriptions is None
True
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, Field, field_validator, model_validator

from tuneforge.frozen import Frozen

__all__ = ["SetFitMethod", "ZeroShotEmbedMethod", "ZeroShotLLMMethod"]


def _descriptions_from_file(value: Any) -> Any:
    """A string names a YAML file of `label: description(s)`, so that several configs can share one."""
    if not isinstance(value, str):
        return value
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"file {value} does not exist (expected a YAML file of label: description, or a mapping)")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{value}: not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise ValueError(f"{value}: expected a mapping of label: description(s), got {type(loaded).__name__}")
    return loaded


LabelDescriptions = Annotated[dict[str, str | list[str]], BeforeValidator(_descriptions_from_file)]


def _check_template(template: str, allowed: set[str], required: str) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    if unknown := fields - allowed:
        raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    if required not in fields:
        raise ValueError(f"must contain {{{required}}}")
    return template


class ZeroShotEmbedMethod(Frozen):
    name: Literal["zeroshot-embed"] = Field(
        description="No training: each text gets the label whose description embeds closest (cosine similarity)."
    )
    descriptions: LabelDescriptions | None = Field(
        None,
        description="label -> description, or list of descriptions (averaged), or the path of a YAML file holding "
        "that mapping; default the label's name.",
    )
    template: str = Field(
        "{label}", description="Text embedded per description, e.g. 'This message is about {label}.'"
    )

    @field_validator("template")
    @classmethod
    def _template_names_label(cls, value: str) -> str:
        return _check_template(value, {"label"}, "label")


class ZeroShotLLMMethod(Frozen):
    name: Literal["zeroshot-llm"] = Field(
        description="No training: an instruction LLM scores each label as the answer to a prompt; best label wins."
    )
    model: str = Field("smollm2", description="Causal LM with a chat template: an alias, a local dir or a .gguf file.")
    prompt: str = Field(
        "Which category fits the text best? Categories: {labels}.\n\nText:\n{text}\n\nAnswer with the category only.",
        description="User message; {text} is the text, {labels} the label names (with descriptions, one a line).",
    )
    descriptions: dict[str, str] | None = Field(None, description="label -> description, shown in {labels}.")
    score: Literal["sum", "mean"] = Field(
        "mean", description="Log-probability of a label's answer tokens: sum, or mean per token (less length bias)."
    )

    @field_validator("prompt")
    @classmethod
    def _prompt_names_text(cls, value: str) -> str:
        return _check_template(value, {"text", "labels"}, "text")


class SetFitMethod(Frozen):
    name: Literal["setfit"] = Field(
        description="Few-shot (Tunstall et al. 2022): contrastive tuning of the sentence encoder, then a LR head."
    )
    shots: int | None = Field(
        None, ge=1, description="Examples per class sampled from train (seeded); null uses all of train."
    )
    sample_seed: int | None = Field(None, description="Seed of the per-class sample; default train.seed.")
    iterations: int = Field(
        20, ge=1, description="Pairs per example and epoch: one same-class and one other-class pair each (SetFit: 20)."
    )
    epochs: float = Field(1, gt=0, description="Passes over the pairs (SetFit: 1); train.epochs is not used.")
    loss: Literal["cosine", "ranking"] = Field(
        "cosine",
        description="cosine: pair cosine similarity to 1 or 0 (SetFit's default); ranking: each text picks its "
        "same-label partner among the batch's partners (MultipleNegativesRankingLoss; same-label pairs only, no "
        "label twice in a batch).",
    )
    hard_negatives: bool = Field(
        False,
        description="ranking: a batch gathers labels whose shots lie close in the untuned encoder (by centroid), "
        "so each text is told apart from the labels it is most confused with.",
    )
    head_c: float = Field(1.0, gt=0, description="Inverse regularisation strength C of the logistic-regression head.")
    descriptions: LabelDescriptions | None = Field(
        None,
        description="label -> description(s) in a customer's words, or a YAML file of them, as zero-shot-embed reads "
        "them; each is added to its label's examples (pairs and head): examples that need no labelling.",
    )

    @model_validator(mode="after")
    def _hard_negatives_need_ranking(self) -> SetFitMethod:
        if self.hard_negatives and self.loss != "ranking":
            raise ValueError("hard_negatives needs loss: ranking (the cosine loss draws its negatives per pair)")
        return self
