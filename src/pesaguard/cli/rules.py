"""``pesaguard rules``: check a policy file and backtest it on the store's history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from pesaguard.cli.common import console, handle_errors, say, write_json
from pesaguard.config import get_settings
from pesaguard.decisions.history import backtest_store
from pesaguard.decisions.rules import load_rules
from pesaguard.errors import UsageError
from pesaguard.schema import to_ms
from pesaguard.store import open_store

app = typer.Typer(
    help="Operator rules (policy YAML: thresholds, lists, rules of `FIELD OP VALUE` conditions with "
         "OP one of == != < <= > >= in not_in in_list not_in_list; FIELD a transaction column or "
         "features.NAME).",
    no_args_is_help=True)


@app.command()
@handle_errors
def check(path: Path = typer.Argument(..., help="Policy YAML file.")) -> None:
    """Validate a policy file; errors name the file, rule and field."""
    rules = load_rules(path)
    say(f"{path}: {len(rules.rules)} rules, {len(rules.lists)} lists, version {rules.version}: OK")


@app.command()
@handle_errors
def backtest(
    path: Path = typer.Argument(..., help="Policy YAML file."),
    start: datetime = typer.Option(..., "--from", help="Start of the period (UTC), e.g. 2024-06-01."),
    end: datetime = typer.Option(..., "--to", help="End of the period (UTC, exclusive)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON here."),
) -> None:
    """Replay history and report hits, precision and recall per rule on labelled data."""
    rules = load_rules(path)
    start_ms, end_ms = to_ms(start), to_ms(end)
    if end_ms <= start_ms:
        raise UsageError("--to must be after --from", hint="for example --from 2024-06-01 --to 2024-07-01")
    with open_store(get_settings()) as store:
        result = backtest_store(store, rules, start_ms, end_ms, on_progress=say)
    table = Table("rule", "action", "hits", "fraud hits", "precision", "recall",
                  title=f"{result['transactions']:,} transactions, {result['fraud']:,} fraud "
                        f"({result['labelled']:,} labelled)")
    for r in result["rules"]:
        table.add_row(r["rule"], r["action"], f"{r['hits']:,}", f"{r['fraud_hits']:,}", _pct(r["precision"]),
                      _pct(r["recall"]))
    console.print(table)
    if json_out is not None:
        write_json(json_out, result)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"
