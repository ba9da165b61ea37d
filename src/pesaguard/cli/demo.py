"""``pesaguard demo``: the main job on the embedded defaults (what ``make demo`` runs)."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from pesaguard.cli.common import handle_errors, progress, say
from pesaguard.cli.simulate import summary_table


@handle_errors
def demo_cmd(
    accounts: int = typer.Option(10000, "--accounts", min=50, help="Customer accounts in the simulated network."),
    days: int = typer.Option(30, "--days", min=22, help="Days of history to store and learn from."),
    live_days: int = typer.Option(3, "--live-days", min=1, help="Further days streamed in as live traffic."),
    seed: int = typer.Option(7, "--seed", min=0, help="Random seed of the simulated world."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="End by serving the API and console with live "
                               "traffic (until Ctrl-C); --no-serve stops after training."),
    port: int = typer.Option(8000, "--port", help="Port of the API and console on 127.0.0.1."),
    rate: float = typer.Option(20.0, "--rate", min=0.1, help="Live transactions sent per second."),
    duration: float | None = typer.Option(None, "--duration", min=1, help="Stop serving after this many seconds."),
) -> None:
    """Simulate a month of a modest mobile-money network, store it, train and evaluate a model, then
    serve the API and analyst console while further days stream in as live traffic."""
    from pesaguard.config import get_settings
    from pesaguard.demo import simulate_and_ingest
    from pesaguard.models.pipeline import run_demo_training
    from pesaguard.store import open_store

    settings = get_settings()
    settings.ensure_home()
    t0 = time.perf_counter()
    with open_store(settings) as store:
        say(f"[bold]pesaguard demo[/] on {store.dialect} at {settings.resolved_database_url}")
        with progress("simulating days", total=days + live_days) as advance:
            world = simulate_and_ingest(settings, store, accounts=accounts, days=days, seed=seed,
                                        live_days=live_days, advance=advance)
        table = summary_table(world.summary, f"simulated world: {world.summary.days} days, seed {seed} "
                                             f"({world.sim_dir})")
        for name, c in world.stored.items():
            table.add_row(f"stored {name}", f"{c['new']:,} new, {world.totals.get(name, c['rows']):,} in store")
        table.add_row("kept back as live traffic", f"{len(world.live):,} transactions ({live_days} days)")
        say(table)

        say(f"[bold]training and evaluating[/] (prequential model choice, {days}-day history)")
        result = run_demo_training(store, settings, progress=lambda msg: say(f"  {msg}"))
    metrics = Table(title=f"evaluation on the last test week (champion: version {result['model_version']})")
    for col in ("model", "roc_auc", "average_precision", "account_precision_at_100", "account_recall_at_budget"):
        metrics.add_column(col, justify="left" if col == "model" else "right")
    for row in result["metrics"]:
        metrics.add_row(str(row["model"]), *(_fmt(row.get(k)) for k in (
            "roc_auc", "average_precision", "account_precision_at_100", "account_recall_at_budget")))
    say(metrics)
    say(f"report: {result['report']}\nmetrics JSON: {result['json']}")
    say(f"set-up took {time.perf_counter() - t0:.0f} s")
    if serve:
        from pesaguard.service.demo import serve_demo

        serve_demo(settings, world.live, port=port, rate=rate, duration=duration, say=say)


def _fmt(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))
