"""Dequantise a GGUF checkpoint once and keep it as a safetensors Hugging Face dir, so later runs start fast.

The packaged SmolLM2 is a 4-bit GGUF that transformers dequantises to fp32 on every load (~20 s); the cached
dir loads in about a second. The cache key is the file's name plus a hash of its bytes, so a changed file never
reuses a stale dir. `TUNEFORGE_CACHE` moves the cache (default ~/.cache/tuneforge).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

__all__ = ["cache_root", "hf_dir"]


def cache_root() -> Path:
    return Path(os.environ.get("TUNEFORGE_CACHE", Path.home() / ".cache" / "tuneforge")).expanduser()


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            sha.update(chunk)
    return sha.hexdigest()[:16]


def hf_dir(model_path: str) -> str:
    """A Hugging Face dir for `model_path`: itself, or for a .gguf file its cached dequantised copy."""
    if not model_path.endswith(".gguf"):
        return model_path
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = Path(model_path)
    target = cache_root() / "models" / f"{gguf.stem}-{_digest(gguf)}"
    if (target / "config.json").is_file():
        return str(target)
    staging = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers marks a GGUF-loaded model as quantised and refuses to save it, although its weights are
    # already dequantised fp32: a plain model built from the same config takes them over.
    config = loaded.config
    for key in ("quantization_config", "gguf_file"):
        if hasattr(config, key):
            delattr(config, key)
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    try:
        os.replace(staging, target)  # atomic: readers see no dir or a complete one
    except OSError:  # another process finished first; its copy is as good
        shutil.rmtree(staging, ignore_errors=True)
    return str(target)
