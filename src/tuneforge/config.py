"""The config tree: frozen pydantic models, one part per stage. `load_config` is the only YAML reader.

Relative paths in a config resolve against the working directory, as in `tuneforge train configs/demo.yaml`
run from the project root.

>>> cfg = load_config("configs/demo.yaml", ["train.epochs=2"])  # doctest: +SKIP
>>> cfg.train.epochs
2.0
"""

from __future__ import annotations

import difflib
import string
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from tuneforge.errors import ConfigError
from tuneforge.llm.config import SftConfig
from tuneforge.recommend.config import RecommendConfig
from tuneforge.tabular.config import TabularConfig

__all__ = [
    "AdaLoraMethod",
    "AdapterMethod",
    "BitFitMethod",
    "CleanConfig",
    "Config",
    "DataConfig",
    "EarlyStoppingConfig",
    "FreezeMethod",
    "FullMethod",
    "IA3Method",
    "LoraMethod",
    "MethodConfig",
    "NerDataConfig",
    "PTuningMethod",
    "PrefixMethod",
    "PromptMethod",
    "SetFitMethod",
    "SftConfig",
    "SplitConfig",
    "TrackingConfig",
    "TrainConfig",
    "ZeroShotEmbedMethod",
    "ZeroShotLLMMethod",
    "load_config",
    "parse_overrides",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SplitConfig(_Frozen):
    validation: float = Field(
        0.1, ge=0, lt=1, description="Share of train held out for validation when none is given."
    )
    test: float = Field(0.1, ge=0, lt=1, description="Share of train held out for test when none is given.")
    seed: int = Field(42, description="Seed of the split; the same seed gives the same split.")
    stratify: bool = Field(True, description="Keep class proportions equal across splits.")


class CleanConfig(_Frozen):
    normalize: bool = Field(True, description="NFKC, full-width to half-width, whitespace and HTML remnants.")
    dedup: bool = Field(True, description="Drop exact and normalised duplicate texts; report conflicting labels.")
    redact_pii: bool = Field(False, description="Replace e-mails, phones, ID and card numbers, IPs by placeholders.")


class NerDataConfig(_Frozen):
    """How token-classification files are read: CoNLL columns, tag scheme, and what to do with stray I- tags."""

    tag_column: int = Field(-1, description="CoNLL column (0-based) holding the tag; -1 is the last column.")
    scheme: Literal["auto", "iob1", "iob2", "bioes"] = Field(
        "auto", description="Tag scheme of CoNLL files, normalised to IOB2; auto detects it per file."
    )
    stray_inside: Literal["begin", "outside", "error"] = Field(
        "begin", description="An I- tag that follows nothing: begin an entity, make it O, or reject the sentence."
    )

    @field_validator("tag_column")
    @classmethod
    def _not_the_token(cls, value: int) -> int:
        if value == 0:
            raise ValueError("column 0 holds the token; the tag is in another column (-1: the last)")
        return value


class DataConfig(_Frozen):
    train: Path = Field(description="Training file: CSV, TSV, JSONL or Parquet; CoNLL or span JSONL for NER.")
    validation: Path | None = Field(None, description="Validation file; split from train when absent.")
    test: Path | None = Field(None, description="Test file; split from train when absent.")
    format: Literal["auto", "csv", "tsv", "jsonl", "parquet", "conll"] = Field(
        "auto", description="File format; auto uses the suffix (.jsonl/.json: JSONL, other NER files: CoNLL)."
    )
    encoding: str = Field("auto", description="Text encoding; auto detects UTF-8, UTF-8 with BOM and GBK.")
    text_column: str = Field("text", description="Column holding the input text.")
    label_column: str = Field(
        "label", description="Column holding the class label; for NER JSONL the spans ('entities' also found)."
    )
    labels: list[str] | None = Field(
        None, description="Declared label set (entity types for NER, e.g. [PER, CITY]); others are row errors."
    )
    max_tokens: int | None = Field(
        None, gt=0, description="Rows longer than this many tokens are errors; default 8 x train.max_length."
    )
    split: SplitConfig = Field(default_factory=SplitConfig, description="How missing validation/test are split off.")
    on_error: Literal["fail", "skip"] = Field(
        "fail", description="fail: stop listing bad rows; skip: drop and save them."
    )
    clean: CleanConfig = Field(default_factory=CleanConfig, description="Cleaning steps applied before splitting.")
    ner: NerDataConfig = Field(default_factory=NerDataConfig, description="Token classification: CoNLL and tags.")

    @model_validator(mode="after")
    def _split_leaves_training_data(self) -> DataConfig:
        held_out = (self.split.validation if self.validation is None else 0) + (
            self.split.test if self.test is None else 0
        )
        if held_out >= 0.9:
            raise ValueError(f"split.validation + split.test must leave at least 10% for training, got {held_out:.2f}")
        return self


class EarlyStoppingConfig(_Frozen):
    metric: str = Field("macro_f1", description="Validation metric watched; loss is minimised, others maximised.")
    patience: int = Field(2, ge=1, description="Evaluations without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as an improvement.")


class AdversarialConfig(_Frozen):
    method: Literal["fgm"] = Field(
        "fgm", description="fgm: one step along the loss gradient at the word embeddings (Miyato et al. 2017)."
    )
    epsilon: float = Field(
        0.2,
        gt=0,
        description="Length of each example's perturbation of its word vectors (L2 over the example; MiniLM's "
        "word vectors are ~1.1 long). SST-2 with MiniLM: 0.05 and 0.2 helped, 1.0 hurt.",
    )


class TrainConfig(_Frozen):
    epochs: float = Field(3, gt=0, description="Passes over the training data; fractions allowed.")
    batch_size: int = Field(32, ge=1, description="Examples per optimiser step, before accumulation.")
    eval_batch_size: int | None = Field(
        None, ge=1, description="Examples per evaluation batch; default 2 x batch_size."
    )
    grad_accum: int = Field(1, ge=1, description="Batches accumulated per optimiser step.")
    lr: float = Field(5e-5, gt=0, description="Peak learning rate of AdamW.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay, not applied to biases and norms.")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Share of steps with linear warm-up.")
    scheduler: Literal["linear", "cosine", "constant"] = Field("linear", description="Decay after warm-up.")
    max_grad_norm: float | None = Field(1.0, gt=0, description="Gradient clipping norm; null turns clipping off.")
    max_length: int = Field(
        128, ge=8, le=8192, description="Tokens per text; longer texts are truncated (NER: split into windows)."
    )
    stride: int | None = Field(
        None, ge=0, description="NER: tokens shared by consecutive windows of a long text; default max_length // 4."
    )
    seed: int = Field(42, description="Seed for weights, dropout and batch order.")
    mixed_precision: Literal["auto", "no", "fp16", "bf16"] = Field(
        "auto",
        description="auto: bf16 on GPUs that support it, fp16 on other GPUs; on CPU bf16 where it has bf16 "
        "instructions (AVX512-BF16 or AMX), else off.",
    )
    packing: bool | None = Field(
        None,
        description="Pack each batch's examples into rows as long as its longest, each attending only to itself: "
        "no padding, so batches can come in random order. null: on for chats and NER (except with virtual-token "
        "methods: prefix, prompt, ptuning); text classification cannot pack.",
    )
    group_by_length: bool | None = Field(
        None,
        description="Batch texts of similar length: far less padding, same sampling. null: on unless packing, "
        "which has no padding to save.",
    )
    eval_every: int | None = Field(None, ge=1, description="Evaluate every N optimiser steps; default once per epoch.")
    save_every: int | None = Field(None, ge=1, description="Checkpoint every N steps; default at each evaluation.")
    early_stopping: EarlyStoppingConfig | None = Field(
        default_factory=EarlyStoppingConfig, description="Stop when validation stops improving; null turns it off."
    )
    class_weights: Literal["none", "balanced"] = Field("none", description="balanced: weight the loss by 1/frequency.")
    label_smoothing: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="text-classification: share of each target spread evenly over all labels (0.1 is usual): "
        "curbs over-confidence when many epochs overfit a small data set.",
    )
    adversarial: AdversarialConfig | None = Field(
        None,
        description="Also train on word embeddings perturbed to raise the loss (FGM): a regulariser for small or "
        "noisy data; each step costs about twice as much. null: off.",
    )
    threads: int | None = Field(None, ge=1, description="CPU threads for torch; default all cores.")

    @field_validator("mixed_precision", mode="before")
    @classmethod
    def _yaml_no(cls, value: Any) -> Any:
        return "no" if value is False else value  # YAML 1.1 reads a bare `no` as false


class FullMethod(_Frozen):
    name: Literal["full"] = Field("full", description="Train every weight.")


class FreezeMethod(_Frozen):
    name: Literal["freeze"] = Field(description="Train the head and the top layers only.")
    freeze_layers: int | None = Field(
        None, ge=0, description="Embeddings plus this many lower layers are frozen; null freezes all but the head."
    )


class BitFitMethod(_Frozen):
    name: Literal["bitfit"] = Field(description="Train the bias terms and the head only (Ben Zaken et al. 2022).")


class LoraMethod(_Frozen):
    name: Literal["lora"] = Field(description="Low-rank updates of the chosen linear layers (Hu et al. 2021).")
    r: int = Field(8, ge=1, description="Rank of each update; 8 trains ~1.5% of MiniLM with all linear layers.")
    alpha: float = Field(16, gt=0, description="Scale of the update is alpha / r; 2 x r is the usual choice.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout on the input of the low-rank path.")
    target_modules: list[str] | None = Field(
        None, description="Module name suffixes adapted; default every linear layer of the encoder for the model type."
    )
    layers: list[int] | None = Field(
        None, description="Only these transformer layers (0-based) get updates; null: all. Top layers only: faster."
    )


class AdaLoraMethod(_Frozen):
    name: Literal["adalora"] = Field(description="LoRA with ranks reallocated while training (Zhang et al. 2023).")
    init_r: int = Field(12, ge=1, description="Starting rank of every update.")
    target_r: int = Field(8, ge=1, description="Average rank left when the budget schedule ends.")
    alpha: float = Field(16, gt=0, description="Scale of the update, as LoRA's alpha.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout on the input of the low-rank path.")
    target_modules: list[str] | None = Field(None, description="As lora.target_modules.")
    warmup_share: float = Field(0.1, ge=0, lt=1, description="Share of steps before ranks start to be pruned.")
    final_share: float = Field(0.3, ge=0, lt=1, description="Share of steps at the end with ranks fixed.")
    prune_every: int = Field(10, ge=1, description="Steps between two rank reallocations.")

    @model_validator(mode="after")
    def _schedule_fits(self) -> AdaLoraMethod:
        if self.warmup_share + self.final_share >= 1:
            raise ValueError("warmup_share + final_share must be < 1: no steps would be left to prune ranks")
        if self.target_r > self.init_r:
            raise ValueError(f"target_r ({self.target_r}) must be <= init_r ({self.init_r})")
        return self


class IA3Method(_Frozen):
    name: Literal["ia3"] = Field(description="Learned rescaling of keys, values and feed-forward (Liu et al. 2022).")
    target_modules: list[str] | None = Field(None, description="Modules rescaled; default PEFT's for the model type.")
    feedforward_modules: list[str] | None = Field(
        None, description="Those of target_modules whose input (not output) is rescaled; default PEFT's."
    )


class PrefixMethod(_Frozen):
    name: Literal["prefix"] = Field(description="Learned keys and values in front of every layer (Li & Liang 2021).")
    num_virtual_tokens: int = Field(20, ge=1, description="Virtual tokens prepended to each layer's keys and values.")
    projection: bool = Field(False, description="Produce the prefix through a 2-layer MLP, as in the paper.")
    projection_size: int = Field(256, ge=1, description="Hidden size of that MLP.")


class PromptMethod(_Frozen):
    name: Literal["prompt"] = Field(description="Learned input embeddings before the text (Lester et al. 2021).")
    num_virtual_tokens: int = Field(20, ge=1, description="Virtual tokens prepended to the input.")
    init: Literal["random", "vocab"] = Field(
        "vocab", description="Start the virtual tokens as random vectors or as embeddings of random vocabulary words."
    )


class PTuningMethod(_Frozen):
    name: Literal["ptuning"] = Field(description="Virtual input tokens produced by a small encoder (Liu et al. 2021).")
    num_virtual_tokens: int = Field(20, ge=1, description="Virtual tokens prepended to the input.")
    encoder: Literal["mlp", "lstm"] = Field("mlp", description="Network that produces the virtual tokens.")
    encoder_hidden_size: int = Field(128, ge=1, description="Hidden size of that network.")


class AdapterMethod(_Frozen):
    name: Literal["adapter"] = Field(description="Bottleneck layers inside every block (Houlsby / Pfeiffer).")
    style: Literal["houlsby", "pfeiffer"] = Field(
        "pfeiffer", description="houlsby: after attention and feed-forward; pfeiffer: after feed-forward only."
    )
    reduction_factor: int = Field(16, ge=1, description="Bottleneck size is hidden size / this (384 / 16 = 24).")
    train_layer_norms: bool = Field(True, description="Also train the layer norms, as both papers do.")


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


class ZeroShotEmbedMethod(_Frozen):
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


class ZeroShotLLMMethod(_Frozen):
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


class SetFitMethod(_Frozen):
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


MethodConfig = Annotated[
    FullMethod
    | FreezeMethod
    | BitFitMethod
    | LoraMethod
    | AdaLoraMethod
    | IA3Method
    | PrefixMethod
    | PromptMethod
    | PTuningMethod
    | AdapterMethod
    | ZeroShotEmbedMethod
    | ZeroShotLLMMethod
    | SetFitMethod,
    Field(discriminator="name"),
]
"""What is trained: one block per method, told apart by `name`; each block accepts only its own keys."""


class TrackingConfig(_Frozen):
    backend: Literal["mlflow", "none"] = Field("mlflow", description="Experiment tracker.")
    uri: str | None = Field(None, description="Tracking URI; default a local ./mlruns store.")
    experiment: str | None = Field(None, description="Experiment name; default the output dir's name.")


_MAIN_METRICS = {"token-classification": "entity_f1", "causal-lm-sft": "loss"}  # default early_stopping.metric
_SFT_METHODS = ("lora", "full", "adalora", "ia3")  # methods that fit a causal LM with the pipeline's loss
_ZERO_SHOT_METHODS = ("zeroshot-embed", "zeroshot-llm")
_FEW_SHOT_METHODS = (*_ZERO_SHOT_METHODS, "setfit")  # methods that build their own model


class Config(_Frozen):
    task: Literal[
        "text-classification", "token-classification", "causal-lm-sft", "tabular-classification", "recommendation"
    ] = Field(
        "text-classification",
        description="What the model learns: a label per text, entity spans, chat answers (causal LM), a risk score "
        "per table row, or items to recommend.",
    )
    model: str = Field("minilm", description="'minilm' (packaged offline MiniLM), a local HF dir or a hub id.")
    pooling: Literal["auto", "mean", "cls"] = Field(
        "auto",
        description="text-classification: what the head reads. 'mean' averages the text's token vectors (how "
        "sentence-embedding checkpoints such as the packaged MiniLM were trained), 'cls' the first token's; 'auto' "
        "takes mean when the checkpoint's sentence-transformers config pools by mean, cls otherwise.",
    )
    head_init: Literal["random", "probe"] = Field(
        "random",
        description="text-classification: how the new head starts. probe: a logistic regression on the "
        "untouched model's features (C picked on validation), then everything fine-tunes from there (LP-FT).",
    )
    extend_vocab: bool = Field(
        False,
        description="Add the training texts' pieces that the tokenizer maps to [UNK] (e.g. Chinese characters "
        "with an English model) as new tokens; needs method full, which trains their embeddings.",
    )
    data: DataConfig
    train: TrainConfig = Field(default_factory=TrainConfig, description="The training loop.")
    method: MethodConfig = Field(default_factory=FullMethod, description="Which parameters are trained and how.")
    output_dir: Path = Field(Path("runs/run"), description="Run directory: model, metrics, reports, checkpoints.")
    tracking: TrackingConfig = Field(
        default_factory=TrackingConfig, description="Tracking: 'mlflow', 'none' or a block."
    )
    tabular: TabularConfig | None = Field(None, description="tabular-classification: schema, policies, CV, costs.")
    recommend: RecommendConfig | None = Field(None, description="task: recommendation: item file, columns, models.")
    sft: SftConfig = Field(default_factory=SftConfig, description="causal-lm-sft: chat data, formatting, generation.")

    @field_validator("tracking", mode="before")
    @classmethod
    def _tracking_shorthand(cls, value: Any) -> Any:
        return {"backend": value} if isinstance(value, str) else value

    @field_validator("method", mode="before")
    @classmethod
    def _method_shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _main_metric_of_task(cls, raw: Any) -> Any:
        # For NER, early_stopping.metric defaults to its main score, entity_f1, unless the config names one.
        if not isinstance(raw, dict) or raw.get("task") not in _MAIN_METRICS:
            return raw
        train = raw.get("train") or {}
        stopping = train.get("early_stopping", {}) if isinstance(train, dict) else None
        if isinstance(stopping, dict) and "metric" not in stopping:
            metric = _MAIN_METRICS[raw["task"]]
            return {**raw, "train": {**train, "early_stopping": {**stopping, "metric": metric}}}
        return raw

    @model_validator(mode="after")
    def _options_fit_the_task(self) -> Config:
        if self.extend_vocab and self.method.name != "full":
            raise ValueError(
                f"extend_vocab adds token embeddings that only method full trains and saves, not {self.method.name}"
            )
        if self.task == "causal-lm-sft":
            if self.method.name not in _SFT_METHODS:
                raise ValueError(
                    f"method {self.method.name} does not fit task causal-lm-sft (it is built for encoders "
                    f"with a classification head); use one of {', '.join(_SFT_METHODS)}"
                )
            if self.data.format == "conll":
                raise ValueError("data.format conll holds tagged tokens, not chats; use jsonl, csv, tsv or auto")
            if self.train.class_weights != "none":
                raise ValueError("train.class_weights is not supported for causal-lm-sft; use none")
            return self
        if self.task != "text-classification":
            for key, value, default in (
                ("pooling", self.pooling, "auto"),
                ("train.label_smoothing", self.train.label_smoothing, 0.0),
                ("head_init", self.head_init, "random"),
            ):
                if value != default:
                    raise ValueError(f"{key} is an option of task text-classification, not {self.task}; leave it out")
        if self.head_init == "probe" and self.method.name in _FEW_SHOT_METHODS:
            raise ValueError(f"head_init: probe starts a trained head; method {self.method.name} fits its own")
        if self.train.adversarial and self.method.name in _ZERO_SHOT_METHODS:
            raise ValueError(f"train.adversarial needs training; method {self.method.name} trains nothing")
        if self.task != "token-classification":
            if self.data.format == "conll":
                raise ValueError("data.format conll holds tagged tokens: it needs task: token-classification")
            return self
        if self.method.name in _FEW_SHOT_METHODS:
            raise ValueError(f"method {self.method.name} classifies whole texts: it needs task: text-classification")
        if self.data.clean.redact_pii:
            raise ValueError(
                "data.clean.redact_pii is not supported for token-classification: it moves entity offsets"
            )
        if self.train.class_weights != "none":
            raise ValueError("train.class_weights is not supported for token-classification; use none")
        if self.data.format in ("csv", "tsv", "parquet"):
            raise ValueError(f"data.format {self.data.format} cannot hold entities; use conll, jsonl or auto")
        return self

    @property
    def max_tokens(self) -> int:
        """Token count above which a text is rejected as far over max_length."""
        return self.data.max_tokens or 8 * self.train.max_length


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """Turn `a.b=value` strings into a nested dict; values are parsed as YAML (`2` is an int, `null` is None)."""
    tree: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY.PATH=VALUE, e.g. train.epochs=2")
        node = tree
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {part} is set to a value and also used as a section")
        node[leaf] = yaml.safe_load(raw) if raw.strip() else None
    return tree


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: dict[str, Any]) -> str:
    parts, _ = _walk(error["loc"])
    path = ".".join(parts)
    if error["type"] == "extra_forbidden":
        _, parent = _walk(error["loc"][:-1])
        known = sorted(parent.model_fields) if parent else []
        hint = difflib.get_close_matches(str(error["loc"][-1]), known, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown key '{path}'{suggestion}; expected one of: {', '.join(known)}"
    if error["type"] == "missing":
        return f"'{path}' is required"
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        _, parent = _walk(error["loc"][:-1])
        union = parent.model_fields[parts[-1]].annotation if parent else None
        tags = [get_args(choice.model_fields["name"].annotation)[0] for choice in get_args(union)]
        tag = str(error.get("ctx", {}).get("tag", ""))
        hint = difflib.get_close_matches(tag, tags, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        found = f"unknown name {tag!r}{suggestion}" if tag else "no name given"
        return f"'{path}.name': {found}; expected one of: {', '.join(tags)}"
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f", got {got!r}"
    return f"'{path}': {error['msg']}{shown}" if path else f"{error['msg']}{shown}"


def _walk(loc: tuple[Any, ...]) -> tuple[list[str], type[BaseModel] | None]:
    """The key path of an error location and the config model it ends in.

    In a union told apart by `name` (the method block), pydantic puts the chosen name into the location;
    it is no key of the YAML, so it is left out of the path.
    """
    model: type[BaseModel] | None = Config
    path: list[str] = []
    parts = [str(p) for p in loc]
    while parts:
        part = parts.pop(0)
        path.append(part)
        field = model.model_fields.get(part) if model else None
        annotation = getattr(field, "annotation", None)
        subs = [c for c in get_args(annotation) or (annotation,) if isinstance(c, type) and issubclass(c, BaseModel)]
        if len(subs) > 1 and parts:
            tag = parts.pop(0)
            subs = [c for c in subs if tag in get_args(c.model_fields["name"].annotation)]
        model = subs[0] if len(subs) == 1 else None
    return path, model


def _missing_files(cfg: Config) -> list[str]:
    paths = {"data.train": cfg.data.train, "data.validation": cfg.data.validation, "data.test": cfg.data.test}
    return [f"'{key}': file {path} does not exist" for key, path in paths.items() if path and not path.is_file()]


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read a YAML config, apply `--set` overrides, and validate everything before any work starts.

    All problems are collected into one ConfigError naming the file and each key path.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, got {type(raw).__name__}")
    if isinstance(raw.get("method"), str):  # `method: lora` is `method: {name: lora}`, so --set method.r=4 adds to it
        raw["method"] = {"name": raw["method"]}
    raw = _merge(raw, parse_overrides(overrides or []))
    if "output_dir" not in raw:
        raw["output_dir"] = f"runs/{path.stem}"
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        raise ConfigError(f"{path}: {len(problems)} problem(s) in the config", problems) from None
    if missing := _missing_files(cfg):
        raise ConfigError(f"{path}: {len(missing)} problem(s) in the config", missing)
    return cfg
