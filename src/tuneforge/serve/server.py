"""What the `serve`, `keys` and `feedback` commands call."""

from __future__ import annotations

import copy
import ctypes
import datetime
import logging
import os
from pathlib import Path
from typing import Any

from tuneforge.errors import ConfigError
from tuneforge.serve import export
from tuneforge.serve.db import connect
from tuneforge.serve.keys import KeyStore
from tuneforge.serve.registry import parse_model_arg
from tuneforge.serve.settings import Settings
from tuneforge.serve.watch import champions
from tuneforge.tasks import task_of

__all__ = ["RedactQuery", "export_feedback", "key_store", "serve"]


def serve(settings: Settings, model_args: list[str]) -> None:
    """Check every model dir (a cheap read of its manifest), then run uvicorn; models load once it is up.

    With `settings.registry`, `model_args` are model names there: each serves its champion and follows it."""
    import uvicorn

    from tuneforge.serve.app import create_app

    if settings.registry:
        models, versions = _registry_models(settings.registry, model_args)
    else:
        models, versions = dict(parse_model_arg(arg) for arg in model_args), {}
    if len(models) != len(model_args):
        raise ConfigError("two models have the same name; name them: tuneforge serve demo=runs/demo chat=runs/sft")
    for path in models.values():
        task_of(path)
    connect(settings.database_url)  # a database it cannot open is one message now, not a traceback at startup
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _limit_malloc_arenas()
    uvicorn.run(
        create_app(settings, models, versions),
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=_log_config(uvicorn.config.LOGGING_CONFIG),
    )


def _registry_models(root: Path, names: list[str]) -> tuple[dict[str, Path], dict[str, str]]:
    """name -> champion run dir, and name -> its version tag."""
    found = champions(root, names)
    return {name: v.path for name, v in found.items()}, {name: v.tag for name, v in found.items()}


class RedactQuery(logging.Filter):
    """Every query value of an access-log line replaced by ***: a key sent as `?api_key=` is refused, but uvicorn
    would still write it in clear to the log.

    >>> record = logging.LogRecord("uvicorn.access", 20, "", 0, '%s - "%s %s HTTP/%s" %d', (
    ...     "127.0.0.1:5", "GET", "/readyz?api_key=tf_secret&x", "1.1", 401), None)
    >>> RedactQuery().filter(record) and record.getMessage()
    '127.0.0.1:5 - "GET /readyz?api_key=***&*** HTTP/1.1" 401'
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            path, _, query = args[2].partition("?")
            redacted = "&".join(f"{part.partition('=')[0]}=***" if "=" in part else "***" for part in query.split("&"))
            record.args = (*args[:2], f"{path}?{redacted}", *args[3:])
        return True


def _log_config(base: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging config with RedactQuery on its access logger (uvicorn.access: client, method, path+query,
    HTTP version, status)."""
    config = copy.deepcopy(base)
    config.setdefault("filters", {})["redact_query"] = {"()": RedactQuery}
    access = config["loggers"].setdefault("uvicorn.access", {})
    access["filters"] = [*access.get("filters", []), "redact_query"]
    return config


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each new thread its own malloc arena, and freed memory left in many arenas reads as growth:
    in a 10-minute soak (bench/serve_soak.py) RSS grew 10.9% with the default and 6.6% with 2 arenas.
    An explicit MALLOC_ARENA_MAX wins; other C libraries are left alone."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_arena_max = -8  # from glibc's malloc.h
    libc.mallopt(m_arena_max, arenas)


def key_store(database_url: str) -> KeyStore:
    return KeyStore(connect(database_url))


def export_feedback(
    database_url: str,
    output: Path,
    *,
    model: str,
    since: str | None,
    min_rating: int | None,
    text_column: str,
    label_column: str,
) -> export.Exported:
    try:
        start = datetime.datetime.fromisoformat(since) if since else None
    except ValueError:
        raise ConfigError(f"--since: expected a date like 2026-01-01, got '{since}'") from None
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=datetime.UTC)
    return export.export_feedback(
        connect(database_url),
        output,
        model=model,
        since=start,
        min_rating=min_rating,
        text_column=text_column,
        label_column=label_column,
    )
