"""`tuneforge models add|list|promote|rollback`: the model registry from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import get_console

from tuneforge.errors import RunError
from tuneforge.registry import ModelVersions, registry_root
from tuneforge.registry.lineage import main_metrics, run_lineage
from tuneforge.user_errors import user_errors

__all__ = ["models_app"]

models_app = typer.Typer(
    help="Versions of a model: register runs, promote a champion, roll back.", no_args_is_help=True
)

F = TypeVar("F", bound=Callable[..., Any])
NameArg = Annotated[str, typer.Argument(help="Model name, e.g. intent.")]
RegistryOpt = Annotated[
    Path | None,
    typer.Option("--registry", help="Registry folder; default $TUNEFORGE_REGISTRY or ./models."),
]
ReasonOpt = Annotated[str | None, typer.Option(help="Why; kept in champion.json.")]


@models_app.command("add")
@user_errors
def add(
    name: NameArg,
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory; copied into the registry.")],
    registry: RegistryOpt = None,
) -> None:
    """Register a finished run as the next version; the first version becomes champion."""
    versions = ModelVersions(registry_root(registry), name)
    version = versions.add(run_dir, run_lineage(run_dir), copy=True)
    get_console().print(f"{name} {version.tag} added from {run_dir} (parent: {version.lineage['parent'] or 'none'})")
    if versions.champion() is None:
        versions.promote(version.tag, "first version")
        get_console().print(f"{name} {version.tag} is champion (first version)")


@models_app.command("list")
@user_errors
def list_versions(name: NameArg, registry: RegistryOpt = None) -> None:
    """Every version: parent, created, main metrics, gate decision; * marks the champion."""
    from rich.table import Table

    versions = ModelVersions(registry_root(registry), name)
    if not versions.exists():
        raise RunError(f"no model '{name}' in {versions.root}; register one: tuneforge models add {name} RUN_DIR")
    champion = versions.champion()
    table = Table("", "version", "parent", "created", "metrics", "gate", "strategy")
    for version in versions.versions():
        lineage = version.lineage
        metrics = main_metrics(lineage.get("metrics") or {})
        gate = lineage.get("gate") or {}
        table.add_row(
            "*" if champion and champion.tag == version.tag else "",
            version.tag,
            lineage.get("parent") or "-",
            str(lineage.get("created", "-")),
            ", ".join(f"{key} {value:.4g}" for key, value in metrics.items()) or "-",
            str(gate.get("decision", "-")),
            str(lineage.get("strategy", "-")),
        )
    get_console().print(table)


@models_app.command("promote")
@user_errors
def promote(
    name: NameArg,
    tag: Annotated[str, typer.Argument(help="Version to make champion, e.g. v4.")],
    registry: RegistryOpt = None,
    reason: ReasonOpt = None,
    force: Annotated[bool, typer.Option(help="Promote even a version its gate rejected.")] = False,
) -> None:
    """Make a version the champion; servers watching the registry switch to it."""
    versions = ModelVersions(registry_root(registry), name)
    gate = versions.version(tag).lineage.get("gate") or {}
    if gate.get("decision") == "rejected" and not force:
        why = f": {gate['reason']}" if gate.get("reason") else ""
        raise RunError(f"{name} {tag} was rejected by its gate{why}; pass --force to promote it anyway")
    versions.promote(tag, reason or ("promoted by hand" + (" (gate overridden)" if force else "")))
    get_console().print(f"{name} {tag} is champion")


@models_app.command("rollback")
@user_errors
def rollback(name: NameArg, registry: RegistryOpt = None, reason: ReasonOpt = None) -> None:
    """Make the previous champion champion again."""
    version = ModelVersions(registry_root(registry), name).rollback(reason or "rollback")
    get_console().print(f"{name} rolled back: {version.tag} is champion")
