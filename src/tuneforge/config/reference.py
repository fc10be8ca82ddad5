"""The config reference of the README, generated from the config models' field descriptions (one source).

`python -m tuneforge.config.reference` rewrites the README's section between the marker comments and prints it;
tests/unit/test_config_reference.py fails when the README and `render_reference()` differ, or a field has no
description.

>>> "| `data.train` |" in render_reference()
True
"""

from __future__ import annotations

import enum
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from tuneforge.config.method import MethodConfig
from tuneforge.config.root import Config

__all__ = ["BEGIN", "END", "blocks", "fields", "readme_section", "render_reference", "update_readme"]

BEGIN = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"
_TASK_BLOCKS = ("sft", "tabular", "recommend")  # read by one task only: each gets a section of its own
_README = Path(__file__).resolve().parents[3] / "README.md"


def blocks() -> list[tuple[str, type[BaseModel]]]:
    """(key path, model) of each section: the config without method and task blocks, each method block, and each
    task block."""
    methods = get_args(get_args(MethodConfig)[0])
    task_blocks = [(name, _models(Config.model_fields[name].annotation)[0]) for name in _TASK_BLOCKS]
    return [("", Config), *((f"method: {_method_name(m)}", m) for m in methods), *task_blocks]


def fields(prefix: str, model: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    """(key path, field) of every key under `model`, nested blocks expanded; on Config, the method and task
    blocks are left to their own sections."""
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        yield path, info
        if not (model is Config and name in ("method", *_TASK_BLOCKS)):
            for sub in _models(info.annotation):
                yield from fields(path, sub)


def render_reference() -> str:
    """The Markdown reference: per section, one table row per key (path, type or choices, default, description)."""
    parts = []
    for title, model in blocks():
        prefix = title.split(":")[0]
        heading = f"### `{title}`" if title else "### Common keys"
        rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
        for path, info in fields(prefix, model):
            if prefix == "method" and path == "method.name":
                continue
            cells = [f"`{path}`", _type(info.annotation), _default(info), info.description or ""]
            rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        doc = " ".join((model.__doc__ or "").split()) if title else ""
        if title.startswith("method"):
            doc = f"`method: {{name: {_method_name(model)}, ...}}`: {model.model_fields['name'].description}"
        table = "\n".join(rows) if len(rows) > 2 else "No other keys."
        parts.append("\n\n".join(part for part in (heading, doc, table) if part))
    return "\n\n".join(parts) + "\n"


def update_readme(readme: Path = _README) -> bool:
    """Put `render_reference()` between the markers of `readme`; True when the file changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    updated = f"{text[:start]}\n{render_reference()}{text[end:]}"
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text


def readme_section(readme: Path = _README) -> str:
    """What the README holds between the markers, as render_reference() writes it."""
    text = readme.read_text(encoding="utf-8")
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)].removeprefix("\n")


def _method_name(model: type[BaseModel]) -> str:
    return str(get_args(model.model_fields["name"].annotation)[0])


def _models(annotation: Any) -> list[type[BaseModel]]:
    choices = get_args(annotation) if _is_union(annotation) else (annotation,)
    return [c for c in choices if isinstance(c, type) and issubclass(c, BaseModel)]


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _type(annotation: Any) -> str:
    if _is_union(annotation):
        return " | ".join(dict.fromkeys(_type(a) for a in get_args(annotation)))
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"map {_type(args[0])} → {_type(args[1])}"
    if get_origin(annotation) is not None and hasattr(annotation, "__metadata__"):  # Annotated
        return _type(args[0])
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "block" if annotation is not Config else "config"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(f"`{m.value}`" for m in annotation)
    return {Path: "path", str: "string", int: "int", float: "float", bool: "bool"}.get(annotation, str(annotation))


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return f"`{value.name}`" if "name" in type(value).model_fields else "block"
        return _yaml(value)
    if info.default is PydanticUndefined:
        return "required"
    return _yaml(info.default)


def _yaml(value: Any) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (list, tuple)):
        return "`[" + ", ".join(_yaml(v).strip("`") for v in value) + "]`"
    if isinstance(value, dict):
        return "`{" + ", ".join(f"{k}: {_yaml(v).strip('`')}" for k, v in value.items()) + "}`"
    if isinstance(value, str) and not value:
        return '`""`'
    if isinstance(value, str):
        return f"`{value.encode('unicode_escape').decode()}`"  # a newline shows as \\n
    return f"`{value}`"


if __name__ == "__main__":
    sys.stdout.write(render_reference())
    if _README.is_file():  # a source checkout; an installed package only prints
        sys.stderr.write(f"{_README}: {'updated' if update_readme() else 'already up to date'}\n")
