"""``pesaguard db``: schema migrations and store status."""

from __future__ import annotations

import typer
from rich.table import Table

from pesaguard.cli.common import handle_errors, say
from pesaguard.config import get_settings
from pesaguard.store import open_store
from pesaguard.store.core import count

app = typer.Typer(help="The operational database: migrate and inspect.", no_args_is_help=True)


@app.command()
@handle_errors
def migrate() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    with open_store(get_settings()) as store:
        say(f"schema version {store.schema_version()} at {store.dialect}")


@app.command()
@handle_errors
def status() -> None:
    """Show the database URL, schema version and row counts."""
    settings = get_settings()
    with open_store(settings) as store:
        table = Table(title=f"{store.dialect} store, schema v{store.schema_version()}")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name in store.tables():
            if name in ("schema_migrations", "sqlite_sequence"):
                continue
            table.add_row(name, f"{count(store, name):,}")
        say(table)
