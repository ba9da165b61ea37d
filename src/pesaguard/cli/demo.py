"""``pesaguard demo``: the main job on the embedded defaults (what ``make demo`` runs)."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from pesaguard.cli.common import handle_errors, progress, say


@handle_errors
def demo_cmd(
    accounts: int = typer.Option(5000, "--accounts", min=50, help="Customer accounts in the simulated network."),
    days: int = typer.Option(30, "--days", min=7, help="Days to simulate."),
    seed: int = typer.Option(7, "--seed", min=0, help="Random seed of the simulated world."),
) -> None:
    """Simulate a month of a modest mobile-money network, ingest it into the store and summarise it."""
    from pesaguard.config import get_settings
    from pesaguard.demo import simulate_and_ingest
    from pesaguard.store import open_store

    settings = get_settings()
    settings.ensure_home()
    t0 = time.perf_counter()
    with open_store(settings) as store:
        say(f"[bold]pesaguard demo[/] on {store.dialect} at {settings.resolved_database_url}")
        with progress("simulating and ingesting days", total=days) as advance:
            world = simulate_and_ingest(settings, store, accounts=accounts, days=days, seed=seed, advance=advance)
        s = world.summary
        table = Table(title=f"simulated world: {s.days} days, seed {seed} ({world.sim_dir})")
        table.add_column("what")
        table.add_column("value", justify="right")
        table.add_row("transactions", f"{s.transactions:,}")
        table.add_row("fraudulent", f"{s.fraud_transactions:,} ({s.fraud_rate:.3%})")
        for name, n in s.per_typology.items():
            if n:
                table.add_row(f"  {name}", f"{n:,}")
        table.add_row("labels reported", f"{s.labels:,} ({s.label_coverage:.0%} of fraud)")
        table.add_row("SMS", f"{s.sms['total']:,}")
        for name, c in world.stored.items():
            table.add_row(f"stored {name}", f"{c['new']:,} new, {world.totals.get(name, c['rows']):,} in store")
        say(table)
    say(f"done in {time.perf_counter() - t0:.1f} s")
