"""``docs/typologies.md``: the shipped pack, its language and its measured figures, generated.

:func:`render` is a pure function of the pack and two JSON files of figures: the pack's backtest on
simulated worlds (``pesaguard rules backtest --pack mobile-money --json``) and the demo benchmark
(``benchmarks/bench_demo.py``). Each JSON names the pack digest it measured, and the test that keeps
the page current (``tests/test_typologies_docs.py``) fails when the pack changed after its figures
were measured, with the commands that refresh them.
"""

from __future__ import annotations

from typing import Any

from pesaguard.decisions.rules import parse_rules
from pesaguard.decisions.typologies import Pack

BACKTEST_COMMAND = ("pesaguard rules backtest --pack mobile-money --seeds 1,2 --accounts 20000 --days 51 "
                    "--json docs/typologies-backtest.json")
DEMO_COMMAND = "python benchmarks/bench_demo.py --json docs/typologies-demo.json"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def _kes(minor: int) -> str:
    return f"{minor / 100:,.0f}"


def _language() -> list[str]:
    return [
        "## The policy language", "",
        "A rule holds when all its conditions hold. A condition is `FIELD OP VALUE`:", "",
        "| FIELD | means |", "|---|---|",
        "| a transaction column | `amount_minor`, `type`, `channel`, `payer`, `payee`, `device_id`, ... |",
        "| `features.NAME` | a streaming feature as the scorer saw it ([features.md](features.md)) |",
        "| `count(payer, 1h)`, `sum(payer, 24h)`, `mean`, `std`, `max` | the payer's payments in a window |",
        "| `count(payee, 24h)`, `sum(payee, 7d)`, `mean(payee, 30d)` | what the payee received in a window |",
        "| `distinct(payer, 24h)` / `distinct(payee, 24h)` | different payees paid / payers received from |",
        "| `frauds(payee, 30d)`, `frauds(payer, 7d)`, `fraud_rate(payee, 30d)` | frauds known by decision time |",
        "| `since(EVENT)` | seconds since `sim_swap`, `device_change`, `payee.sim_swap`, `money_in`, `last_payment`, "
        "`last_payment_to_payee`, `scam_sms`, `payee.first_receipt`, `payee.last_receipt` |", "",
        "Windows are the feature engine's (`1h`, `24h`, `7d`, `30d`; fraud counts `24h`, `7d`, `30d`); any other "
        "is an error that names them. OP is `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not_in`, `in_list`, "
        "`not_in_list`. VALUE is a number, a word, a list (`[cash_out, p2p]`), a list name (for `in_list`), a "
        "duration (`24h`, for `since(...)` and other times in seconds) or another field "
        "(`since(device_change) <= since(sim_swap)`). A missing value (an event that never happened, no "
        "history) makes a condition false.", "",
        "A sequence is events that happened to the payer, in order, the first no longer ago than `within`, "
        "then this transaction:", "",
        "```yaml",
        "- name: drain_after_takeover",
        "  sequence: [sim_swap, device_change]   # since(sim_swap) <= 24h and since(device_change) <= since(sim_swap)",
        "  within: 24h",
        "  when: [\"features.pair_is_new == 1\", \"features.balance_drain > 0.5\"]",
        "  action: block",
        "  weight: 0.6",
        "  reason: \"{features.balance_drain} of the balance to a first-time payee {since(sim_swap)} after a SIM swap\"",
        "```", "",
        "A reason names tested fields in braces and reads as a sentence with their values in words (\"85% of the "
        "balance to a first-time payee 2 h 5 min after a SIM swap\").", "",
        "## Using the pack", "",
        "Without `HOME/rules.yaml` the service decides with the mobile-money pack. A policy file includes it and "
        "may switch typologies off or change their action and weight:", "",
        "```yaml",
        "packs: [mobile-money]",
        "typologies:",
        "  structuring: {enabled: false}",
        "  mule_fan_in: {action: block, weight: 0.3}",
        "rules: []          # your own rules, evaluated first",
        "```", "",
        "`pesaguard rules check FILE` validates it; `pesaguard rules backtest FILE --from DAY --to DAY` replays the "
        "store; `pesaguard rules backtest --pack mobile-money` measures the pack on simulated worlds.", "",
        "A decision's risk combines the model's probability with the weights of the rules that hit "
        "(`1 - (1 - p) * prod(1 - s * w)`); how much of each weight counts depends on the model "
        "(`pesaguard models list` shows its mode). With the **cold-start** model (the unsupervised anomaly "
        "score `pesaguard train` chooses while few frauds are known) all of it, `s = 1`: the pack's knowledge "
        "ranks the queue. With a **supervised** model a tenth, `s = 0.1`, and the pack acts mostly as operator "
        "overrides (its actions and reasons): on the demo's worlds (seeds 7 and 11) the full weights lowered a "
        "trained model's average precision from 0.655 to 0.561 and from 0.626 to 0.544, while a tenth of them "
        "kept it within 0.01 and lifted the worst typology's recall at a 1% review budget from 0.29 to 0.65 "
        "(compromised agents, whose labels the model had not learned from yet).", "",
    ]


def render(pack: Pack, backtest: dict[str, Any] | None, demo: dict[str, Any] | None) -> str:
    """The whole page (see the module docstring)."""
    rules = parse_rules({"packs": [pack.name]})
    out = [
        "# Typology pack: mobile money", "",
        f"Generated by `pesaguard.decisions.typologies.docs.render` from the `{pack.name}` pack (version "
        f"{pack.version}, digest `{pack.digest}`, in `src/pesaguard/decisions/typologies/{pack.name}/`) and its "
        "measured figures; `tests/test_typologies_docs.py` keeps it current.", "",
        pack.description.strip(), "",
        f"{len(pack.typologies)} typologies, {len(rules.rules)} rules. Each typology is a YAML file: name, version, "
        "title, description, the real-world pattern, sources, action (`review` or `block`), weight (the share of "
        "its alerts expected to be fraud), the simulator typologies it covers, and its rules.", "",
    ]
    out += _language()
    out += _figures(pack, backtest)
    out += _demo(demo)
    out += ["## The typologies", ""]
    by_typology: dict[str, list[Any]] = {}
    for r in rules.rules:
        by_typology.setdefault(r.typology or "", []).append(r)
    for t in pack.typologies:
        out += [f"### `{t.name}`: {t.title}", "",
                f"Version {t.version}; action **{t.action}**, weight {t.weight:g}; covers "
                f"{', '.join(f'`{c}`' for c in t.covers) or 'nothing the simulator generates'}.", "",
                t.description.strip(), "", f"*Pattern.* {t.pattern.strip()}", "", "*Sources.*", ""]
        out += [f"- {s}" for s in t.sources] + [""]
        out += ["| rule | conditions | action | weight | reason |", "|---|---|---|---|---|"]
        for r in by_typology.get(t.name, []):
            conds = "; ".join(f"`{c.text}`" for c in r.conditions)
            out.append(f"| `{r.name.split('.', 1)[1]}` | {conds} | {r.action} | {r.weight:g} | {r.reason} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _figures(pack: Pack, bt: dict[str, Any] | None) -> list[str]:
    """The backtest section: how it was measured, per typology of the pack, per simulated typology."""
    out = ["## Measured on simulated worlds", ""]
    if not bt:
        return [*out, f"Not measured yet: run `{BACKTEST_COMMAND}`.", ""]
    worlds, seeds = bt["worlds"], bt["seeds"]
    out += [f"`{BACKTEST_COMMAND}` (pack digest `{bt['packs'][pack.name]['digest']}`): two worlds of "
            f"{bt['accounts']:,} customers, seeds {' and '.join(map(str, seeds))}, {bt['days']} days each, of "
            "which the first 30 only fill the feature windows; the rules are evaluated on the rest as the live "
            "scorer would have (labels only once reported, account events at their times). Truth is the "
            "simulator's: every fraudulent transaction, reported or not. The weights were set on a third world "
            "(seed 7), not these. Recall counts the fraud of the simulator typologies a typology covers; caught is "
            "its share of all fraud.", ""]
    out += _pack_table(worlds, seeds)
    out += ["", "Of each simulated typology's fraud, the share the pack alerts on (seed "
            f"{seeds[0]}; seed {seeds[1] if len(seeds) > 1 else seeds[0]}):", ""]
    out += _truth_table(worlds)
    out += ["", "Per world: " + "; ".join(f"{w['world']}: {w['transactions']:,} transactions over {w['days']:.0f} "
                                          f"days, {w['frauds']:,} frauds ({_kes(w['fraud_amount_minor'])} KES)"
                                          for w in worlds) + ".", ""]
    return out


def _pack_table(worlds: list[dict[str, Any]], seeds: list[int]) -> list[str]:
    """Per typology of the pack, in each world: alerts a day, precision, recall, share caught, money caught."""
    head = "| typology | " + " | ".join(f"alerts/day s{s} | precision s{s} | recall s{s} | caught s{s}" for s in seeds)
    out = [head + " | money caught, KES |", "|---" * (1 + 4 * len(seeds)) + "|---|"]
    for name in [r["typology"] for r in worlds[0]["typologies"]]:
        cells, money = [], []
        for w in worlds:
            r = next(x for x in w["typologies"] if x["typology"] == name)
            cells += [f"{r['alerts_per_day']:,.1f}", _pct(r["precision"]), _pct(r["recall"]), _pct(r["fraud_caught"])]
            money.append(_kes(r["money_caught_minor"]))
        label = f"**{name}**" if name == "(pack)" else f"`{name}`"
        out.append(f"| {label} | " + " | ".join(cells) + f" | {' / '.join(money)} |")
    return out


def _truth_table(worlds: list[dict[str, Any]]) -> list[str]:
    """Per simulated typology: its frauds, the pack's recall, and which typologies of the pack caught them."""
    out = ["| simulated typology | frauds | recall | by typology of the pack |", "|---|---|---|---|"]
    for t in worlds[0]["by_truth"]:
        rows = [w["by_truth"].get(t) for w in worlds]
        frauds = " / ".join(str(r["frauds"]) if r else "–" for r in rows)
        recall = " / ".join(_pct(r["recall"]) if r else "–" for r in rows)
        top = sorted(((k, v) for k, v in (rows[0] or {}).items() if k not in ("frauds", "recall") and v > 0),
                     key=lambda kv: -kv[1])
        out.append(f"| `{t}` | {frauds} | {recall} | {', '.join(f'{k} {v:.0%}' for k, v in top) or '–'} |")
    return out


def _demo(demo: dict[str, Any] | None) -> list[str]:
    out = ["## In the demo's evaluation", ""]
    if not demo:
        return [*out, f"Not measured yet: run `{DEMO_COMMAND}`.", ""]
    out += [f"`{DEMO_COMMAND}`: the demo's own test week (the last whole week of its stored history) on three "
            "worlds, recall of each simulated typology when the analysts review the top 1% of each day's "
            "transactions by risk; *pack* is the pack alone, *combined* the model and the pack under the policy "
            "(what the service does), *day one* the pack with the cold-start anomaly score and no label known. "
            "Figures per world, separated by slashes: " + "; ".join(r["label"] for r in demo["runs"]) + ".", "",
            "| simulated typology | test frauds | pack | combined | day one |", "|---|---|---|---|---|"]
    typologies = sorted({t for r in demo["runs"] for t in r["arms"]["combined"]["typology_recall_at_budget"]})
    def cell(arm: str, t: str) -> str:
        rows = [r["arms"][arm]["typology_recall_at_budget"].get(t) for r in demo["runs"]]
        return " / ".join(_pct(row["recall"]) if row else "–" for row in rows)

    for t in typologies:
        frauds = " / ".join(str(r["arms"]["combined"]["typology_recall_at_budget"].get(t, {}).get("frauds", 0))
                            for r in demo["runs"])
        out.append(f"| `{t}` | {frauds} | {cell('pack', t)} | {cell('combined', t)} | {cell('cold start', t)} |")
    out.append("")
    return out


def main() -> None:
    """``python -m pesaguard.decisions.typologies.docs [DOCS_DIR]``: write typologies.md from the JSON beside it."""
    import json
    import sys
    from pathlib import Path

    from pesaguard.decisions.typologies import load_pack

    docs = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    read = lambda name: json.loads((docs / name).read_text(encoding="utf-8")) if (docs / name).exists() else None  # noqa: E731
    (docs / "typologies.md").write_text(render(load_pack(), read("typologies-backtest.json"),
                                               read("typologies-demo.json")), encoding="utf-8")


if __name__ == "__main__":
    main()
