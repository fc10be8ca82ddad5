"""One line per validation error, naming the key path, what was found and what was expected."""

from __future__ import annotations

import difflib
import reprlib
from typing import Any, get_args

from pydantic import BaseModel

from tuneforge.config.root import Config

# What an error echoes of the value it got: enough to recognise it, never a screenful (a long description, a list
# of thousands). reprlib stops early, so even a huge value costs little to show.
_ECHO_CHARS = 120
_echo = reprlib.Repr()
_echo.maxlevel, _echo.maxlist, _echo.maxtuple, _echo.maxdict, _echo.maxset = 3, 8, 8, 8, 8
_echo.maxstring = _echo.maxother = _ECHO_CHARS


def _shown(value: Any) -> str:
    text = _echo.repr(value)
    return text if len(text) <= _ECHO_CHARS else text[: _ECHO_CHARS - 1] + "…"


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
    shown = "" if isinstance(got, dict) else f", got {_shown(got)}"
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
