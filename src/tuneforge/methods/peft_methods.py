"""LoRA, AdaLoRA, IA3, prefix, prompt and p-tuning through PEFT: only defaults and glue that PEFT lacks live here.

- The head (every child of the model outside its pretrained body) always trains and is saved with the adapter,
  through PEFT's `modules_to_save`.
- LoRA's default targets are every linear layer of the encoder (attention q/k/v/output, feed-forward, pooler):
  QLoRA (Dettmers et al. 2023) found all linear layers needed to match full fine-tuning, and at r=8 that is
  1.5% of MiniLM-L6's weights. The pooler is included because BERT's classifier reads it and it is pretrained
  for next-sentence prediction, not for the user's labels. PEFT's own BERT default (query, value) trains 0.3%.
- Mean pooling (tasks/text_classification/mean_pooling.py) appends a layer and resets the pooler, which the
  stock checkpoint lacks; the task lists them as the model's added modules (methods/base.py): both travel
  whole in the adapter as `modules_to_save`, so no PEFT method adapts them
  (PEFT never targets a module it saves whole). The pooling layer stays frozen, as built (a mean); the reset pooler
  trains with the head. Loaded with plain PEFT, the adapter's base is the stock checkpoint with one layer more,
  whose random last layer and pooler the adapter then replaces:
  `PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base, num_labels=k,
  num_hidden_layers=n + 1), "adapter")`, n being the checkpoint's own layer count (MiniLM-L6: 7).
- Prefix tuning on encoders with absolute positions: the prefix exists only as keys and values, so the text
  keeps positions 0..L-1 as in pre-training; PEFT would shift them by the prefix length, as for a decoder cache.
- Prompt tuning and p-tuning put their virtual tokens before [CLS]: the head then reads the first virtual token,
  a learned classification token that attends to the whole text (PEFT's behaviour, kept).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from tuneforge.errors import ConfigError
from tuneforge.methods.base import StepHook, added_modules, head_modules
from tuneforge.methods.blocks import AdaLoraMethod, IA3Method, LoraMethod, PrefixMethod, PromptMethod, PTuningMethod

if TYPE_CHECKING:
    import torch

__all__ = [
    "LORA_TARGETS",
    "adalora_step_hook",
    "apply_adalora",
    "apply_ia3",
    "apply_lora",
    "apply_prefix",
    "apply_prompt",
    "apply_ptuning",
    "load_peft",
]

_ENCODER_LINEAR = ["query", "key", "value", "output.dense", "intermediate.dense", "pooler.dense"]
_DECODER_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# model type -> module-name suffixes LoRA and AdaLoRA adapt by default; other types: PEFT's "all-linear".
LORA_TARGETS: dict[str, list[str]] = {
    **dict.fromkeys(["bert", "roberta", "xlm-roberta", "camembert", "electra"], _ENCODER_LINEAR),
    "distilbert": ["q_lin", "k_lin", "v_lin", "out_lin", "lin1", "lin2"],
    **dict.fromkeys(["llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2"], _DECODER_LINEAR),
}
_PEFT_HEADS = ("classifier", "score")  # PEFT adds these to modules_to_save for sequence classification itself


def _targets(model: torch.nn.Module, configured: list[str] | None) -> list[str] | str:
    return configured or LORA_TARGETS.get(model.config.model_type, "all-linear")


def _wrap(model: torch.nn.Module, peft_config: Any, method: str) -> torch.nn.Module:
    from peft import get_peft_model

    extra_heads = [name for name in head_modules(model) if name not in _PEFT_HEADS]
    added = added_modules(model)
    peft_config.modules_to_save = extra_heads + list(added) or None
    try:
        wrapped = get_peft_model(model, peft_config)
    except ValueError as exc:  # PEFT's own check of targets and sizes
        raise ConfigError(f"method '{method}': {exc}") from None
    # Saved whole so that the adapter loads onto the stock checkpoint; PEFT trains the copies unless told not to.
    frozen = tuple(f".{name}." for name, trains in added.items() if not trains)
    for name, param in wrapped.named_parameters():
        if any(prefix in f".{name}" for prefix in frozen):
            param.requires_grad_(False)
    return _finish(wrapped)


def load_peft(model: torch.nn.Module, folder: str) -> torch.nn.Module:
    """The base classifier `model` with the PEFT adapter saved in `folder`, ready for inference."""
    from peft import PeftModel

    return _finish(PeftModel.from_pretrained(model, folder))


def _finish(wrapped: Any) -> torch.nn.Module:
    from peft import PeftType

    config = wrapped.active_peft_config
    if config.peft_type == PeftType.PREFIX_TUNING and not wrapped.get_base_model().config.is_decoder:
        _text_keeps_positions(wrapped.get_base_model().base_model)
    return wrapped


def _text_keeps_positions(body: torch.nn.Module) -> None:
    embeddings = getattr(body, "embeddings", None)
    if embeddings is None or "past_key_values_length" not in inspect.signature(embeddings.forward).parameters:
        return  # relative or rotary positions: nothing to correct

    def hook(module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
        return args, {**kwargs, "past_key_values_length": 0}

    embeddings.register_forward_pre_hook(hook, with_kwargs=True)


def _task_type(model: torch.nn.Module) -> Any:
    """PEFT's task type from the model's head class, so that PEFT keeps that head trainable and saved."""
    from peft import TaskType

    heads = {
        "ForSequenceClassification": TaskType.SEQ_CLS,
        "ForTokenClassification": TaskType.TOKEN_CLS,
        "ForCausalLM": TaskType.CAUSAL_LM,
    }
    name = type(model).__name__
    return next((kind for suffix, kind in heads.items() if name.endswith(suffix)), TaskType.FEATURE_EXTRACTION)


def apply_lora(model: torch.nn.Module, cfg: LoraMethod) -> torch.nn.Module:
    from peft import LoraConfig

    config = LoraConfig(
        task_type=_task_type(model),
        r=cfg.r,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=_targets(model, cfg.target_modules),
        # Backward stops at the lowest adapted layer, so adapting the top layers only saves most of it.
        layers_to_transform=cfg.layers,
    )
    return _wrap(model, config, "lora")


def apply_adalora(model: torch.nn.Module, cfg: AdaLoraMethod) -> torch.nn.Module:
    from peft import AdaLoraConfig

    # The schedule needs the number of steps, which only the training loop knows: adalora_step_hook sets it.
    config = AdaLoraConfig(
        task_type=_task_type(model),
        init_r=cfg.init_r,
        target_r=cfg.target_r,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=_targets(model, cfg.target_modules),
        deltaT=cfg.prune_every,
        total_step=1,
    )
    return _wrap(model, config, "adalora")


def adalora_step_hook(model: torch.nn.Module, cfg: AdaLoraMethod) -> StepHook:
    """Reallocate ranks after each optimiser step, on a schedule spread over the run's `total` steps.

    The rank pattern lives here, not in the PEFT config between steps: with a pattern there, PEFT saves the
    adapter cut to the final ranks, which would not match weights restored from an earlier best step. Saved
    uncut, pruned ranks are stored as zeros and the reloaded model equals the trained one exactly.
    """
    pattern: dict[str, Any] = {"current": None}

    def step(index: int, total: int) -> None:
        config = model.peft_config["default"]
        config.total_step = total
        config.tinit, config.tfinal = round(cfg.warmup_share * total), round(cfg.final_share * total)
        config.rank_pattern = pattern["current"]
        model.base_model.update_and_allocate(index)
        pattern["current"], config.rank_pattern = config.rank_pattern, None

    return step


def apply_ia3(model: torch.nn.Module, cfg: IA3Method) -> torch.nn.Module:
    from peft import IA3Config

    config = IA3Config(
        task_type=_task_type(model), target_modules=cfg.target_modules, feedforward_modules=cfg.feedforward_modules
    )
    return _wrap(model, config, "ia3")


def apply_prefix(model: torch.nn.Module, cfg: PrefixMethod) -> torch.nn.Module:
    from peft import PrefixTuningConfig

    config = PrefixTuningConfig(
        task_type=_task_type(model),
        num_virtual_tokens=cfg.num_virtual_tokens,
        prefix_projection=cfg.projection,
        encoder_hidden_size=cfg.projection_size,
    )
    return _wrap(model, config, "prefix")


def apply_prompt(model: torch.nn.Module, cfg: PromptMethod) -> torch.nn.Module:
    from peft import PromptTuningConfig, PromptTuningInit

    init = PromptTuningInit.SAMPLE_VOCAB if cfg.init == "vocab" else PromptTuningInit.RANDOM
    config = PromptTuningConfig(
        task_type=_task_type(model), num_virtual_tokens=cfg.num_virtual_tokens, prompt_tuning_init=init
    )
    return _wrap(model, config, "prompt")


def apply_ptuning(model: torch.nn.Module, cfg: PTuningMethod) -> torch.nn.Module:
    from peft import PromptEncoderConfig

    config = PromptEncoderConfig(
        task_type=_task_type(model),
        num_virtual_tokens=cfg.num_virtual_tokens,
        encoder_reparameterization_type=cfg.encoder.upper(),
        encoder_hidden_size=cfg.encoder_hidden_size,
    )
    return _wrap(model, config, "ptuning")
