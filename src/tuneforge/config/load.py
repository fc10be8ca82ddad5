"""Reading a YAML config and its `--set` overrides: the only YAML reader of the config tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tuneforge.config.describe import _describe
from tuneforge.config.root import Config
from tuneforge.errors import ConfigError

__all__ = ["load_config", "parse_overrides"]


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


def _missing_files(cfg: Config) -> list[str]:
    paths = {"data.train": cfg.data.train, "data.validation": cfg.data.validation, "data.test": cfg.data.test}
    return [f"'{key}': file {path} does not exist" for key, path in paths.items() if path and not path.is_file()]


def load_config(
    path: str | Path, overrides: list[str] | None = None, *, rules: Callable[[Config], list[str]] | None = None
) -> Config:
    """Read a YAML config, apply `--set` overrides, and validate everything before any work starts.

    `rules` adds the checks that need the task and method tables (`tuneforge.load_config` passes
    `tuneforge.tasks.rules.config_problems`). All problems are collected into one ConfigError naming the file and
    each key path.
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
    if problems := _missing_files(cfg) + (rules(cfg) if rules else []):
        raise ConfigError(f"{path}: {len(problems)} problem(s) in the config", problems)
    return cfg
