"""``pesaguard keys`` (API keys) and ``pesaguard users`` (console log-ins)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from pesaguard.cli.common import console, handle_errors, say
from pesaguard.config import get_settings
from pesaguard.errors import InputError, NotFoundError
from pesaguard.schema import from_ms
from pesaguard.service.auth import ROLES, check_role, create_key, hash_password
from pesaguard.store import access as repo
from pesaguard.store import open_store

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
users_app = typer.Typer(help="Console users (analysts and admins) with scrypt-hashed passwords.",
                        no_args_is_help=True)


@app.command()
@handle_errors
def create(
    role: str = typer.Option(..., "--role", help=f"One of {', '.join(ROLES)}: scorer < analyst < admin."),
    name: str | None = typer.Option(None, "--name", help="A note saying who or what uses the key."),
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    check_role(role)
    with open_store(get_settings()) as store:
        key = create_key(store, role, name)
    say(f"[bold]{role}[/] key created; store it now, it cannot be shown again:")
    console.print(key, highlight=False, soft_wrap=True)


@app.command("list")
@handle_errors
def list_keys() -> None:
    """List keys (ids, roles, names, dates; never the keys)."""
    with open_store(get_settings()) as store:
        rows = repo.list_api_keys(store)
    table = Table("key id", "role", "name", "created", "revoked")
    for r in rows:
        table.add_row(r["key_id"], r["role"], r["name"] or "", f"{from_ms(r['created_ms']):%Y-%m-%d %H:%M}",
                      f"{from_ms(r['revoked_ms']):%Y-%m-%d %H:%M}" if r["revoked_ms"] else "")
    console.print(table)


@app.command()
@handle_errors
def revoke(key_id: str = typer.Argument(..., help="The key id (the part after pgk_).")) -> None:
    """Revoke a key: console sessions made with it end at once; running servers stop accepting it within
    30 seconds (at once when revoked through their API, DELETE /v1/keys/ID)."""
    with open_store(get_settings()) as store:
        if repo.revoke_api_key(store, key_id) == 0:
            raise NotFoundError(f"no live key with id {key_id!r}", hint="see `pesaguard keys list`")
    say(f"revoked {key_id}")


@users_app.command("create")
@handle_errors
def create_user(
    username: str = typer.Argument(..., help="Log-in name."),
    role: str = typer.Option("analyst", "--role", help="analyst or admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin",
        help="Read the password from the first line of standard input (for scripts) instead of prompting. "
             "There is no option taking the password itself: it would stay in the shell's history and in "
             "the process list."),
) -> None:
    """Create a console user, or reset an existing user's password and role (which ends their sessions)."""
    if role not in ("analyst", "admin"):
        raise InputError(f"console users are analyst or admin, not {role!r}", field="role",
                         hint="use --role analyst or --role admin")
    if username != username.strip() or not username or any(not c.isprintable() for c in username):
        raise InputError(f"user name {username!r} has spaces at its ends or unprintable characters", field="username",
                         hint="use printable characters")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise InputError("the password is shorter than 8 characters", field="password", hint="choose a longer one")
    with open_store(get_settings()) as store:
        ended = repo.upsert_user(store, username, hash_password(password), role)
    say(f"user {username} ({role}) saved; log in at /console/login"
        + (f" ({ended} console session{'s' if ended != 1 else ''} ended)" if ended else ""))
