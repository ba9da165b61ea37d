"""``pesaguard simulate``: a synthetic mobile-money world with labelled fraud and a matching SMS stream."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from pesaguard.cli.common import console, handle_errors, progress, say, state
from pesaguard.errors import UsageError

if TYPE_CHECKING:  # the simulator loads numpy and pyarrow: not at CLI start-up
    from pesaguard.simulate.config import SimSummary


@handle_errors
def simulate_cmd(
    out: Path = typer.Option(..., "--out", help="Directory for the run's Parquet files and summary.json."),
    accounts: int = typer.Option(1000, "--accounts", min=50, help="Number of customer accounts (agents, merchants, "
                                 "billers and banks are added in proportion)."),
    days: int = typer.Option(30, "--days", min=1, help="Days to simulate."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed: the same seed writes byte-identical files."),
    start: str = typer.Option("2024-01-01", "--start", help="First day (YYYY-MM-DD, East Africa Time)."),
    new_typology_from_day: int | None = typer.Option(
        None, "--new-typology-from-day", min=0, help="Scenario: a new fraud typology (till_swap) appears on this day."),
    ingest: bool = typer.Option(False, "--ingest", help="Also load the run into the configured store (idempotent)."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write overview.png next to summary.json."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the output directory and errors."),
) -> None:
    """Simulate a mobile-money world with labelled fraud; write Parquet files and summary.json into --out.

    Files: transactions, labels (delayed), accounts, account_events, sms (.parquet), summary.json and
    overview.png. With --ingest the run is also loaded into the configured store; running it again adds nothing.
    """
    from pesaguard.config import get_settings
    from pesaguard.simulate import SimConfig, simulate
    from pesaguard.simulate.ingest import ingest_run, run_rows

    state.quiet = state.quiet or quiet
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise UsageError(f"--start {start!r} is not a date", field="--start", hint="use YYYY-MM-DD, e.g. 2024-01-01") \
            from None
    settings = get_settings()
    cfg = SimConfig(accounts=accounts, days=days, seed=seed, start=first, new_typology_from_day=new_typology_from_day,
                    operator_sender_id=settings.operator_sender_ids[0], msisdn_salt=settings.redaction_salt)
    with progress("simulating days", total=days) as advance:
        summary = simulate(cfg, out, progress=advance)
    if plot:
        from pesaguard.simulate.report import plot_overview

        plot_overview(out)
    counts = None
    if ingest:
        from pesaguard.store import open_store

        with open_store(settings) as store, progress("ingesting rows", total=run_rows(out)) as advance:
            counts = ingest_run(out, store, progress=advance)
    if state.quiet:
        console.print(str(out))
        return
    table = summary_table(summary, f"simulated {summary.days} days from {first} (seed {seed}) -> {out}")
    table.add_row("wall time", f"{summary.wall_seconds:.1f} s")
    if counts is not None:
        for name, c in counts.items():
            table.add_row(f"stored {name}", f"{c['new']:,} new of {c['rows']:,}")
    say(table)
    say(f"finished {datetime.now():%H:%M:%S}")


def summary_table(summary: SimSummary, title: str) -> Table:
    """A simulation's headline figures: volume, fraud per typology, labels, SMS."""
    table = Table(title=title)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("transactions", f"{summary.transactions:,}")
    table.add_row("fraudulent", f"{summary.fraud_transactions:,} ({summary.fraud_rate:.3%})")
    for name, n in summary.per_typology.items():
        if n:
            table.add_row(f"  {name}", f"{n:,}")
    table.add_row("labels (reported)", f"{summary.labels:,} ({summary.label_coverage:.0%} of fraud)")
    table.add_row("SMS", f"{summary.sms['total']:,}")
    return table
