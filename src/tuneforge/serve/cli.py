"""`tuneforge keys create|list|revoke` and `tuneforge feedback export`: the serving database from the command line.
Nothing heavy at import: `tuneforge --help` stays fast, the server's modules load when a command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import get_console
from rich.console import Console

from tuneforge.errors import TuneforgeError
from tuneforge.user_errors import user_errors

__all__ = ["DatabaseOpt", "serve_feedback_app", "serve_keys_app", "serve_settings"]

serve_keys_app = typer.Typer(help="API keys of the HTTP service: shown once, stored hashed.", no_args_is_help=True)
serve_feedback_app = typer.Typer(help="Feedback collected by the HTTP service.", no_args_is_help=True)
DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="SQLAlchemy URL; default $TUNEFORGE_DATABASE_URL, else ./tuneforge-serve.db"),
]


def serve_settings(**values: Any) -> Any:
    from pydantic import ValidationError

    from tuneforge.serve.settings import Settings

    try:
        return Settings(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:  # an option or a TUNEFORGE_* variable out of range
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise TuneforgeError("server settings: " + "; ".join(problems)) from None


@serve_keys_app.command("create")
@user_errors
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key, e.g. web.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: predict, feedback, admin.")] = "predict",
    database: DatabaseOpt = None,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    from tuneforge.serve.server import key_store

    store = key_store(serve_settings(database_url=database).database_url)
    key = store.create(name, [s.strip() for s in scopes.split(",") if s.strip()])
    Console(stderr=True).print(f"key '{name}' created; store it now, it is not shown again:")
    print(key)


@serve_keys_app.command("list")
@user_errors
def keys_list(database: DatabaseOpt = None) -> None:
    """Every key's id, name, scopes and state (never the key itself)."""
    from rich.table import Table as RichTable

    from tuneforge.serve.server import key_store

    table = RichTable("id", "name", "scopes", "created", "state")
    for key, created in key_store(serve_settings(database_url=database).database_url).all_keys():
        table.add_row(key.id, key.name, ",".join(sorted(key.scopes)), created, "revoked" if key.revoked else "active")
    get_console().print(table)


@serve_keys_app.command("revoke")
@user_errors
def keys_revoke(name: Annotated[str, typer.Argument(help="Key name or id.")], database: DatabaseOpt = None) -> None:
    """Revoke a key; requests with it get 401 from then on."""
    from tuneforge.serve.server import key_store

    key = key_store(serve_settings(database_url=database).database_url).revoke(name)
    get_console().print(f"key '{key.name}' ({key.id}) revoked")


@serve_feedback_app.command("export")
@user_errors
def feedback_export(
    model: Annotated[str, typer.Option(help="Served model name.")],
    output: Annotated[
        Path, typer.Option(help="File to write (classification: .csv; chat, NER, tabular: .jsonl); training reads it.")
    ],
    since: Annotated[str | None, typer.Option(help="Only feedback from this date on, e.g. 2026-01-01.")] = None,
    min_rating: Annotated[
        int | None,
        typer.Option(min=1, max=5, help="Chat: also the model's own answers rated at least this (1-5)."),
    ] = None,
    text_column: Annotated[str, typer.Option(help="Classification: name of the text column.")] = "text",
    label_column: Annotated[str, typer.Option(help="Classification and tabular: name of the label column.")] = "label",
    database: DatabaseOpt = None,
) -> None:
    """Write the feedback as training data in the format the model's task reads: text,label CSV (classification),
    chat JSONL with the corrected answers (chat), span JSONL with the corrected entities (NER), labelled records
    (tabular)."""
    from tuneforge.serve.server import export_feedback

    url = serve_settings(database_url=database).database_url
    exported = export_feedback(
        url,
        output,
        model=model,
        since=since,
        min_rating=min_rating,
        text_column=text_column,
        label_column=label_column,
    )
    left_out = "".join(f"; {n} left out: {reason}" for reason, n in exported.skipped.items())
    get_console().print(f"{exported.rows} {exported.unit} written to [bold]{output}[/]{left_out}")
