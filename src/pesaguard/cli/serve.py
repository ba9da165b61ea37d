"""``pesaguard serve``: the decision API, case endpoints and analyst console on uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from pesaguard.cli.common import handle_errors, say
from pesaguard.config import get_settings, masked_url
from pesaguard.errors import UsageError


@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(
        1, min=1, max=64,
        help="Worker processes: 1. The live feature state and the idempotency check live in the process, so a "
             "second worker would decide a retried transaction again and see only part of each account's "
             "history; capacity beyond one process goes through the stream (`pesaguard consume --cluster`)."),
    rules: Path | None = typer.Option(None, "--rules", help="Policy YAML (default: HOME/rules.yaml if present)."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
) -> None:
    """Serve the API (docs at /docs) and the analyst console (/console). Stop with Ctrl-C."""
    import uvicorn

    if workers > 1:
        raise UsageError(
            f"--workers {workers}: one service process owns the live feature state and knows which transactions it "
            "has decided, so a second worker would acknowledge a retried transaction with a different decision",
            hint="run one `pesaguard serve`; for more capacity decide from the stream with replicas of "
                 "`pesaguard consume --cluster`, which share one feature state (docs/deploy.md)")
    settings = get_settings()
    if rules is not None:
        if not rules.exists():
            raise UsageError(f"rules file {rules} does not exist", hint="give the path to a policy YAML")
        from pesaguard.decisions.rules import load_rules  # imports the feature engine: only when used

        load_rules(rules)  # fail now, with the file/rule/field, rather than inside a worker
        os.environ["PESAGUARD_RULES"] = str(rules.resolve())
    settings.ensure_home()
    say(f"pesaguard on http://{host}:{port}  (API docs /docs, console /console, "
        f"store {masked_url(settings.resolved_database_url)})")
    uvicorn.run("pesaguard.service.app:app_from_env", factory=True, host=host, port=port, workers=1,
                log_level=log_level, access_log=False, loop="uvloop", http="httptools",
                # behind a TLS proxy: the scheme and client address come from the proxies trusted here
                proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
                # half the grace period for open requests, half for the journal (pesaguard.service.app)
                timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_s / 2)))
