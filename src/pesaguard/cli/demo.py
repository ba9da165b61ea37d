"""``pesaguard demo``: the main job on the embedded defaults (what ``make demo`` runs)."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich import box
from rich.table import Table

from pesaguard.cli.common import handle_errors, progress, quiet_mlflow, result, say
from pesaguard.cli.simulate import summary_table

#: The arms of the demo's tables, in order, with what each is.
ARMS = {
    "model": "the supervised model alone",
    "pack": "the typology pack alone",
    "combined": "both under the policy (what the service does)",
    "pack, no labels": "day one: the pack before any label is known",
    "cold start": "day one: anomaly score + pack, no labels",
}
#: Shorter headers for the per-typology table, so it fits 80 columns.
SHORT = {"pack, no labels": "day-1 pack", "cold start": "day 1"}


@handle_errors
def demo_cmd(
    accounts: int = typer.Option(25000, "--accounts", min=50, help="Customer accounts in the simulated network."),
    days: int = typer.Option(50, "--days", min=36, help="Days of history to store and learn from."),
    live_days: int = typer.Option(3, "--live-days", min=1, help="Further days streamed in as live traffic."),
    seed: int = typer.Option(7, "--seed", min=0, help="Random seed of the simulated world."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="End by serving the API and console with live "
                               "traffic (until Ctrl-C); --no-serve stops after training."),
    port: int = typer.Option(8000, "--port", help="Port of the API and console on 127.0.0.1."),
    rate: float = typer.Option(20.0, "--rate", min=0.1, help="Live transactions sent per second."),
    duration: float | None = typer.Option(None, "--duration", min=1, help="Stop serving after this many seconds."),
) -> None:
    """Simulate seven weeks of a mobile-money network, store them, measure the typology pack, a trained
    model, both combined and the cold start on the last week, then serve the API and analyst console
    while further days stream in as live traffic."""
    from pesaguard.config import get_settings, masked_url
    from pesaguard.demo_stages import simulate_and_ingest, simulated_truth, train_and_evaluate
    from pesaguard.store import open_store

    settings = get_settings()
    settings.ensure_home()
    t0 = time.perf_counter()
    with open_store(settings) as store:
        say(f"[bold]pesaguard demo[/] on {store.dialect} at {masked_url(settings.resolved_database_url)}")
        with progress("simulating days", total=days + live_days) as advance:
            world = simulate_and_ingest(settings, store, accounts=accounts, days=days, seed=seed,
                                        live_days=live_days, advance=advance)
        table = summary_table(world.summary, f"simulated world: {world.summary.days} days, seed {seed}")
        for name, c in world.stored.items():
            table.add_row(f"stored {name}", f"{c['new']:,} new, {world.totals.get(name, c['rows']):,} in store")
        table.add_row("kept back as live traffic", f"{len(world.live):,} transactions ({live_days} days)")
        say(table)
        say(f"files: {world.sim_dir} (simulated and stored in {time.perf_counter() - t0:.0f} s)")
        say("[bold]measuring the pack, the model, both, and the cold start[/]")
        quiet_mlflow()
        t1 = time.perf_counter()
        res = train_and_evaluate(store, settings, simulated_truth(world.sim_dir),
                                    say=lambda msg: say(f"  [{time.perf_counter() - t1:4.0f} s] {msg}"))
    for t in result_tables(res.window, res.test, res.arms, res.train_frauds):
        result(t)
    result(f"champion: model version {res.model_version} (supervised; the pack acts as operator overrides)")
    result(f"figures as JSON: {res.json}")
    say(f"set-up took {time.perf_counter() - t0:.0f} s")
    if serve:
        from pesaguard.service.live_traffic import serve_demo

        serve_demo(settings, world.live, port=port, rate=rate, duration=duration, say=say)


def _kes(minor: int) -> str:
    kes = minor / 100
    return f"{kes / 1e6:.2f}M" if kes >= 1e6 else f"{kes / 1e3:.0f}k"


def _r(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}"


def policy_tables(ds: Any, ev: Any) -> list[Table]:
    """``pesaguard evaluate``'s second part: the chosen model, the policy's rules (HOME/rules.yaml or the
    mobile-money pack) and both under the policy, on the same test days."""
    from pesaguard.config import get_settings
    from pesaguard.decisions.evaluation import evaluate_policy
    from pesaguard.decisions.loader import load_policy
    from pesaguard.decisions.policy import Policy
    from pesaguard.decisions.rules import Thresholds

    th = ev.model.thresholds
    rules = load_policy(get_settings()).rules
    arms = evaluate_policy(ds, ev, Policy(rules, Thresholds(review=th.review, block=max(th.block, th.review))))
    w = ev.summary["window"]
    test = {"transactions": int(ev.summary["test_rows"]), "frauds": int(ev.summary["test_frauds"])}
    return result_tables(w, test, arms, int(ev.summary["train_frauds_known"]))


def result_tables(window: dict[str, str], test: dict[str, int], arms: dict[str, dict[str, Any]],
                  train_frauds: int) -> list[Table]:
    """Each arm's figures and recall per typology (both fit 80 columns), and what each arm is."""
    per_day = next(iter(arms.values()))["reviewed_per_day"]
    head = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=f"test {window['test_start'][:10]} to {window['test_end'][:10]}: "
                       f"{test['transactions']:,} transactions, {test['frauds']:,} frauds; model trained with "
                       f"{train_frauds:,} known frauds; review budget 1% of each day (~{per_day:,.0f})",
                 title_justify="left")
    for col in ("decision", "AP", "recall", "alerts/day", "caught KES", "missed KES"):
        head.add_column(col, justify="left" if col == "decision" else "right", no_wrap=True)
    for name in ARMS:
        a = arms.get(name)
        if a is not None:
            head.add_row(name, _r(a["average_precision"]), _r(a["recall_at_budget"]), f"{a['alerts_per_day']:,.0f}",
                         _kes(a["money_caught_minor"]), _kes(a["money_missed_minor"]))
    typ = Table(title="recall per typology at the 1% budget", title_justify="left", box=box.SIMPLE_HEAD,
                collapse_padding=True,
                show_edge=False, pad_edge=False)
    if not any(arms[n].get("typology_recall_at_budget") for n in arms):
        return [head, _legend(arms)]
    typ.add_column("typology", no_wrap=True)
    typ.add_column("frauds", justify="right", no_wrap=True)
    shown = [n for n in ARMS if n in arms]
    for name in shown:
        typ.add_column(SHORT.get(name, name), justify="right", no_wrap=True)
    first = arms[shown[0]].get("typology_recall_at_budget", {})
    for t, row in first.items():
        typ.add_row(t, f"{row['frauds']:,}", *(_r(arms[n]["typology_recall_at_budget"][t]["recall"]) for n in shown))
    return [head, typ, _legend(arms)]


def _legend(arms: dict[str, Any]) -> Table:
    legend = Table.grid(padding=(0, 2))
    for name, what in ARMS.items():
        if name in arms:
            legend.add_row(f"  {SHORT.get(name, name)}", what)
    return legend
