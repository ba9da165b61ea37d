"""The CLI's shared contract: every command has help, errors map to exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from pesaguard import __version__
from pesaguard.cli.main import app

runner = CliRunner()


def _walk(cmd: Any, path: list[str]) -> list[list[str]]:
    found = [path]
    if hasattr(cmd, "commands"):  # typer vendors click: duck-type groups
        for name, sub in cmd.commands.items():
            found += _walk(sub, [*path, name])
    return found


def test_every_command_has_help() -> None:
    root = typer.main.get_command(app)
    paths = _walk(root, [])
    assert len(paths) >= 4
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        cmd = root
        for name in path:
            cmd = cmd.commands[name]
        assert (cmd.help or cmd.short_help or "").strip(), f"command {' '.join(path)} has no help text"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_db_status_and_quiet(env_home: Path) -> None:
    loud = runner.invoke(app, ["db", "status"])
    assert loud.exit_code == 0 and "transactions" in loud.output
    quiet = runner.invoke(app, ["--quiet", "db", "migrate"])
    assert quiet.exit_code == 0 and quiet.output == ""
    assert (env_home / "pesaguard.db").exists()


def test_config_error_exits_with_its_code(env_home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PESAGUARD_DATABASE_URL", "mysql://x")
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 78
    assert "PESAGUARD_DATABASE_URL" in result.output
