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

__all__ = ["load_config", "parse_overrides", "parse_yaml"]

# A config is tens of keys; 100,000 values is far beyond any real one, yet a 1 kB file of nested aliases
# (`b: [*a, *a, ...]`, 9 levels) expands to 9**9 = 387 million, which hangs validation and error printing.
MAX_VALUES = 100_000


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Values in `node` once every alias is copied out, at most MAX_VALUES + 1 (an alias of itself: infinite)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        return MAX_VALUES + 1
    open_nodes.add(key)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    total = 1
    for child in children:
        total = min(total + _expanded_size(child, sizes, open_nodes), MAX_VALUES + 1)
    open_nodes.discard(key)
    sizes[key] = total
    return total


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's message in one line: the problem and where, without the `<unicode string>` excerpt."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = f" {exc.context}" if exc.context else ""
        return f"{exc.problem}{context}{where}"
    return " ".join(str(exc).split())


def parse_yaml(text: str, source: str) -> Any:
    """yaml.safe_load, refusing documents whose aliases expand to more than MAX_VALUES values."""
    try:
        # Inside the try: the loader's reader refuses control characters (a NUL, a lone surrogate) when it starts.
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {_yaml_problem(exc)}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, set()) > MAX_VALUES:
            raise ConfigError(f"{source} expands to more than {MAX_VALUES:,} values (YAML aliases?)")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits, which Python refuses to convert
        raise ConfigError(f"{source}: a value cannot be read ({str(exc)[:120]})") from None
    finally:
        loader.dispose()


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
        node[leaf] = parse_yaml(raw, f"--set {item!r}") if raw.strip() else None
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
        text = path.read_bytes().decode("utf-8-sig")  # -sig: a byte-order mark, as some Windows editors write, is fine
    except UnicodeDecodeError as exc:
        found = f"byte {exc.start} is {exc.object[exc.start]:#04x}"
        raise ConfigError(f"{path} is not UTF-8 ({found}); save it as UTF-8") from None
    raw = parse_yaml(text, str(path)) or {}
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
