"""``pesaguard rules``: check a policy file, backtest it on the store's history, or measure a
typology pack on simulated worlds."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.table import Table

from pesaguard.cli.common import console, handle_errors, result, say, write_json
from pesaguard.config import get_settings
from pesaguard.errors import UsageError
from pesaguard.schema import to_ms
from pesaguard.store import open_store

if TYPE_CHECKING:  # the rules import the feature engine (numba): loaded by the commands that use them
    from pesaguard.decisions.rules import RuleSet

app = typer.Typer(
    help="Operator rules and typology packs (policy YAML: thresholds, packs, lists, rules of `FIELD OP VALUE` "
         "conditions with OP one of == != < <= > >= in not_in in_list not_in_list; FIELD a transaction column, "
         "features.NAME, count|sum|mean|max|distinct(payer|payee, WINDOW) or since(EVENT); VALUE a literal, a "
         "duration such as 24h, or another field; `sequence: [sim_swap, device_change]` with `within: 24h`). "
         "See docs/typologies.md.",
    no_args_is_help=True)


@app.command()
@handle_errors
def check(path: Path = typer.Argument(..., help="Policy YAML file.")) -> None:
    """Validate a policy file; errors name the file, rule and field."""
    from pesaguard.decisions.rules import load_rules

    rules = load_rules(path)
    typologies = len({r.typology for r in rules.rules if r.typology})
    packs = f", packs {', '.join(rules.packs)} ({typologies} typologies)" if rules.packs else ""
    result(f"{path}: {len(rules.rules)} rules, {len(rules.lists)} lists{packs}, version {rules.version}: OK")


def _policy(path: Path | None, pack: str | None) -> RuleSet:
    if path is None and pack is None:
        raise UsageError("give a policy file or --pack", hint="e.g. pesaguard rules backtest --pack mobile-money")
    if path is not None and pack is not None:
        raise UsageError("give a policy file or --pack, not both",
                         hint="include the pack in the file with `packs: [mobile-money]`")
    from pesaguard.decisions.rules import load_rules, parse_rules

    return load_rules(path) if path is not None else parse_rules({"packs": [pack]}, f"pack {pack}")


@app.command()
@handle_errors
def backtest(
    path: Path | None = typer.Argument(None, help="Policy YAML file (or use --pack)."),
    pack: str | None = typer.Option(None, "--pack", help="A typology pack alone, e.g. mobile-money."),
    start: datetime | None = typer.Option(None, "--from", help="Backtest the store from this day (UTC), e.g. "
                                          "2024-06-01. Without --from/--to: simulated worlds (--seeds)."),
    end: datetime | None = typer.Option(None, "--to", help="End of the store's period (UTC, exclusive)."),
    seeds: str = typer.Option("1,2", "--seeds", help="Simulated worlds' seeds (without --from/--to)."),
    accounts: int = typer.Option(20000, "--accounts", min=200, help="Customers of each simulated world."),
    days: int = typer.Option(51, "--days", min=32, help="Days of each simulated world; the first 30 only fill "
                             "feature windows."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON here."),
) -> None:
    """Per rule (store) or per typology (simulated worlds): alerts, precision, recall, money caught.

    On the store, history before --to is replayed through the feature engine and truth is each
    transaction's final label. On simulated worlds (cached under HOME/backtest), truth is the
    simulator's and recall counts the fraud of the simulator typologies each typology covers.
    """
    rules = _policy(path, pack)
    if (start is None) != (end is None):
        raise UsageError("give both --from and --to (the store) or neither (simulated worlds)",
                         hint="for example --from 2024-06-01 --to 2024-07-01")
    if start is not None and end is not None:
        _backtest_store(rules, start, end, json_out)
        return
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        raise UsageError(f"--seeds {seeds!r} is not a list of integers", field="--seeds", hint="e.g. --seeds 1,2") \
            from None
    from pesaguard.decisions.typologies import load_pack
    from pesaguard.decisions.typologies.measure import measure, simulate_world

    packs = [load_pack(p) for p in rules.packs]
    settings = get_settings()
    cache = settings.home / "backtest"
    worlds = []
    for s in seed_list:
        say(f"simulating world seed {s} ({accounts:,} customers, {days} days)")
        worlds.append(simulate_world(cache, accounts, days, s))
    covers = {t.name: t.covers for p in packs for t in p.typologies}
    reports = measure(covers, rules, worlds, say=say)
    for rep in reports:
        console.print(typology_table(rep))
    if json_out is not None:
        write_json(json_out, {"packs": {p.name: {"version": p.version, "digest": p.digest} for p in packs},
                              "accounts": accounts, "days": days, "seeds": seed_list, "worlds": reports})


def typology_table(rep: dict[str, Any]) -> Table:
    """One world's per-typology figures (fits 80 columns)."""
    table = Table(title=f"{rep['world']}: {rep['days']:.0f} days measured, {rep['transactions']:,} transactions, "
                        f"{rep['frauds']:,} frauds", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False)
    for col in ("typology", "alerts/day", "precision", "recall", "caught", "money KES"):
        table.add_column(col, justify="left" if col == "typology" else "right", no_wrap=True)
    for r in rep["typologies"]:
        table.add_row(r["typology"], f"{r['alerts_per_day']:,.1f}", _pct(r["precision"]), _pct(r["recall"]),
                      _pct(r["fraud_caught"]), f"{r['money_caught_minor'] / 100:,.0f}")
    return table


def _backtest_store(rules: RuleSet, start: datetime, end: datetime, json_out: Path | None) -> None:
    from pesaguard.decisions.history import backtest_store

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
