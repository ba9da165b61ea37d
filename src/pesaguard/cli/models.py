"""``pesaguard train|evaluate|score`` and ``pesaguard models list|promote|rollback``."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from pesaguard.cli.common import console, err_console, handle_errors, say, state, write_json
from pesaguard.errors import UsageError

if TYPE_CHECKING:
    from pesaguard.features import FeatureConfig
    from pesaguard.models.data import Dataset
    from pesaguard.models.search import SearchSettings

app = typer.Typer(help="The model registry: list versions, promote one to champion, roll back.",
                  no_args_is_help=True)

DATA_HELP = "Read a `pesaguard simulate` output directory instead of the store."
CANDIDATES_HELP = ("Comma-separated model candidates to choose from (default: all of lgbm_tuned, logreg, "
                   "logreg_balanced, lgbm_31, lgbm_31_sqrt, lgbm_15_shallow, lgbm_63_slow; lgbm_tuned searches "
                   "LightGBM settings in the folds, starting from the fixed lgbm_* ones).")
TRIALS_HELP = "Most LightGBM settings the search (lgbm_tuned) tries."
MINUTES_HELP = "Most wall-clock minutes the search spends (a started trial finishes)."
PAYEE_IDS_HELP = ("shared: payer and payee ids name the same accounts (mobile money); separate: payee ids are "
                  "their own namespace (card data: customer and terminal numbers that may coincide).")
EXTRA_HELP = ("Optional feature groups always added, comma-separated: lagged (the payee's fraud rate in windows "
              "label_delay back; helps on card data), profile (payer's age, amount against every window's mean, "
              "payee's new-payer share), spree (amount against the payer's short windows and its recent peak), "
              "recovery (how long the payee's last settled payment follows its last known fraud). Those not named are tried in the validation folds and kept if they "
              "raise validation AP.")


def _search(trials: int, minutes: float) -> SearchSettings:
    from pesaguard.models.search import SearchSettings

    return SearchSettings(trials=trials, seconds=minutes * 60)


def _features(payee_ids: str, extra: str | None) -> FeatureConfig:
    from pesaguard.features import FeatureConfig
    from pesaguard.features.config import DEFAULT_GROUPS, OPTIONAL_GROUPS

    if payee_ids not in ("shared", "separate"):
        raise UsageError(f"unknown --payee-ids {payee_ids!r}", field="--payee-ids", hint="use shared or separate")
    wanted = [g.strip() for g in (extra or "").split(",") if g.strip()]
    unknown = [g for g in wanted if g not in OPTIONAL_GROUPS]
    if unknown:
        raise UsageError(f"unknown --extra-features {unknown}", field="--extra-features",
                         hint=f"choose from {', '.join(OPTIONAL_GROUPS)}")
    return FeatureConfig(payee_id_space=payee_ids, groups=(*DEFAULT_GROUPS, *wanted))


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date", field=option, hint="use YYYY-MM-DD") from None


def _day_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def _dataset(data: Path | None) -> Dataset:
    from pesaguard.models.data import from_dir, from_store

    if data is not None:
        return from_dir(data)
    from pesaguard.config import get_settings
    from pesaguard.store import open_store

    with open_store(get_settings()) as store:
        return from_store(store)


def _quarantine_warning() -> str | None:
    from pesaguard.config import get_settings
    from pesaguard.ingest.quarantine import quarantine_warning
    from pesaguard.store import open_store

    with open_store(get_settings()) as store:
        return quarantine_warning(store)


@handle_errors
def train_cmd(
    train_start: str | None = typer.Option(None, "--train-start", help="First training day (YYYY-MM-DD, UTC); "
                                           "default: 14 days before the end."),
    train_end: str | None = typer.Option(None, "--train-end", help="Last training day, inclusive; default: "
                                         "the last day of the data."),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    promote: bool = typer.Option(False, "--promote", help="Make the new model champion (the first model always is)."),
    candidates: str | None = typer.Option(None, "--candidates", help=CANDIDATES_HELP),
    mode: str = typer.Option("auto", "--mode", help="supervised (learn from labels), cold-start (an anomaly score "
                             "needing no labels, ranked with the typology pack) or auto: cold start while fewer "
                             "frauds are known in the range than supervised training needs."),
    search_trials: int = typer.Option(30, "--search-trials", min=1, help=TRIALS_HELP),
    search_minutes: float = typer.Option(15.0, "--search-minutes", min=0.1, help=MINUTES_HELP),
    payee_ids: str = typer.Option("shared", "--payee-ids", help=PAYEE_IDS_HELP),
    extra_features: str | None = typer.Option(None, "--extra-features", help=EXTRA_HELP),
) -> None:
    """Choose, train, calibrate and register a scoring model on a time range of the stored data.

    The model family and settings are chosen by prequential validation inside the range; every label
    known now is used. The new version is logged to MLflow with its model card. With few labels the
    model is the cold-start anomaly score (`--mode`); `pesaguard models list` shows each version's mode.
    """
    from pesaguard.cli.common import quiet_mlflow
    from pesaguard.config import get_settings
    from pesaguard.models.anomaly import choose_mode, train_cold_start
    from pesaguard.models.metrics import DAY_MS
    from pesaguard.models.pipeline import train_for_deployment

    ds = _dataset(data)
    s, e = _date(train_start, "--train-start"), _date(train_end, "--train-end")
    start = _day_ms(s) if s else None
    end = _day_ms(e) + DAY_MS if e else None
    from pesaguard.models.estimators import pick

    chosen, why = choose_mode(ds, mode, start, end)
    say(f"mode: {chosen.replace('_', ' ')} ({why})")
    quiet_mlflow()
    if chosen == "cold_start":
        bundle = train_cold_start(ds, get_settings(), start, end, promote=True if promote else None, say=say)
    else:
        bundle = train_for_deployment(ds, get_settings(), start, end, promote=True if promote else None,
                                      grid=pick(candidates), say=say, cfg=_features(payee_ids, extra_features),
                                      search=_search(search_trials, search_minutes))
    say(f"registered pesaguard-scoring version {bundle.version} ({bundle.meta['candidate']}, "
        f"{bundle.meta['train_rows']:,} rows, {bundle.meta['train_frauds']:,} known frauds)")
    if state.quiet:
        console.print(bundle.version)


@handle_errors
def evaluate_cmd(
    train_start: str = typer.Option(..., "--train-start", help="First training day (YYYY-MM-DD, UTC)."),
    train_end: str = typer.Option(..., "--train-end", help="Last training day, inclusive."),
    delay_days: int = typer.Option(7, "--delay-days", min=0, help="Days skipped between training and test "
                                   "(labels of this period are not yet known)."),
    test_days: int = typer.Option(7, "--test-days", min=1, help="Days tested after the delay."),
    alert_budget: int = typer.Option(100, "--alert-budget", min=1, help="Accounts (and transactions) "
                                     "reviewed per day, for recall at a budget."),
    folds: int = typer.Option(4, "--folds", min=1, help="Prequential validation folds for model choice "
                              "(fewer when the history does not hold them)."),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    candidates: str | None = typer.Option(None, "--candidates", help=CANDIDATES_HELP),
    search_trials: int = typer.Option(30, "--search-trials", min=1, help=TRIALS_HELP),
    search_minutes: float = typer.Option(15.0, "--search-minutes", min=0.1, help=MINUTES_HELP),
    payee_ids: str = typer.Option("shared", "--payee-ids", help=PAYEE_IDS_HELP),
    extra_features: str | None = typer.Option(None, "--extra-features", help=EXTRA_HELP),
    json_path: Path | None = typer.Option(None, "--json", help="Write the metrics as JSON here."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report with PNG plots into this directory."),
    predictions: Path | None = typer.Option(None, "--predictions", help="Write every test-period transaction (id, "
                                            "time, payer, payee, amount, label, score) here (.parquet or .csv)."),
) -> None:
    """Honest evaluation: train on a range, skip the label delay, test on the days after.

    Features use all history before each transaction and labels only once known; the model is chosen
    by prequential validation before the test period and trained on labels known at the test start.
    Prints pesaguard's figures (every test transaction, accounts known to be compromised left out of
    account precision) next to the published card-fraud protocol's (the Fraud Detection Handbook's:
    each day, payers with a fraud known before the day leave the test set; card precision@100 also
    drops cards caught on earlier test days).
    """
    from pesaguard.models.estimators import pick
    from pesaguard.models.evaluate import evaluate
    from pesaguard.models.protocol import Window

    s, e = _date(train_start, "--train-start"), _date(train_end, "--train-end")
    assert s is not None and e is not None
    window = Window.from_dates(s, e, delay_days, test_days)
    ds = _dataset(data)
    ev = evaluate(ds, window, cfg=_features(payee_ids, extra_features), grid=pick(candidates), n_folds=folds,
                  alert_budget=alert_budget, say=say, search=_search(search_trials, search_minutes))
    if (timing := ev.summary["label_timing"]["warning"]) is not None:
        err_console.print(f"[bold yellow]warning:[/] {timing}", highlight=False, soft_wrap=True)
    if data is None and (warning := _quarantine_warning()) is not None:  # ingest quarantine biased against frauds
        ev.summary["quarantine_warning"] = warning
        err_console.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if json_path:
        write_json(json_path, ev.summary)
    if predictions:
        from pesaguard.models.evaluate import write_predictions

        say(f"predictions: {write_predictions(ev, predictions)}")
    if report:
        from pesaguard.models.report import write_report

        say(f"report: {write_report(ev, report)}")
    table = Table(title=f"test {ev.summary['window']['test_start'][:10]} .. {ev.summary['window']['test_end'][:10]}",
                  title_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column(ev.summary["model"], justify="right", no_wrap=True)
    base = ev.summary.get("baseline") or {}
    table.add_column(f"baseline: {base.get('candidate', '-')}", justify="right", no_wrap=True)
    for key in ("roc_auc", "average_precision", "account_precision_at_100", "account_recall_at_budget"):
        v, b = ev.summary.get(key), base.get(key)
        table.add_row(key, "-" if v is None else f"{v:.4f}", "-" if b is None else f"{b:.4f}")
    hb, hb_base = ev.summary["handbook"], base.get("handbook") or {}
    table.add_section()
    for key, label in (("roc_auc", "handbook: roc_auc"), ("average_precision", "handbook: average_precision"),
                       ("card_precision_at_100", "handbook: card_precision_at_100")):
        v, b = hb.get(key), hb_base.get(key)
        table.add_row(label, "-" if v is None else f"{v:.4f}", "-" if b is None else f"{b:.4f}")
    table.add_row("handbook: card_precision_at_100 ceiling", f"{hb['card_precision_at_100_ceiling']:.4f}", "")
    console.print(table)
    say(f"handbook protocol: {hb['test_rows']:,} of {ev.summary['test_rows']:,} test transactions kept "
        f"({hb['dropped_rows']:,} of payers with a fraud known before their day left out, "
        f"{hb['dropped_frauds']:,} of them frauds)")
    from pesaguard.cli.demo import policy_tables  # model, typology pack and both under the policy

    for t in policy_tables(ds, ev):
        console.print(t)


@handle_errors
def score_cmd(
    file: Path | None = typer.Argument(None, help="Transactions (CSV or Parquet) in canonical columns; "
                                       "omit to score the store's transactions."),
    out: Path = typer.Option(..., "--out", help="Output file (.csv or .parquet): txn_id, score (the risk), action, "
                             "reasons, rules (those that hit), model_version, policy_version."),
    model_dir: Path | None = typer.Option(None, "--model-dir", help="A model bundle directory instead of the champion."),
    rules: Path | None = typer.Option(None, "--rules", help="The policy file (default: HOME/rules.yaml if it "
                                      "exists, else the mobile-money typology pack), as `pesaguard serve` reads it."),
    reasons: bool = typer.Option(True, "--reasons/--no-reasons", help="Model reason codes for rows at or above review."),
    attribution: str = typer.Option("path", "--attribution",
                                    help="How reasons credit features: path (as the decision service does, "
                                         "µs a row) or tree_shap (exact Shapley values, ~1-3 ms a row)."),
) -> None:
    """Decide a transaction file (or the store's transactions) in batch with the champion model and the policy.

    Features are replayed from the scored transactions themselves, in time order; the model and the
    policy (thresholds, rules, typology pack) then give each row the action, risk and reasons the
    decision service gives the same stream.
    """
    import pandas as pd

    from pesaguard.errors import InputError, UsageError
    from pesaguard.models.registry import champion_scorer
    from pesaguard.models.scorer import Scorer

    if attribution not in ("path", "tree_shap"):
        raise UsageError(f"unknown attribution {attribution!r}", field="--attribution", hint="use path or tree_shap")
    if file is None:
        from pesaguard.config import get_settings
        from pesaguard.store import open_store
        from pesaguard.store.core import load_transactions

        with open_store(get_settings()) as store:
            df = load_transactions(store)
    elif not file.exists():
        raise InputError(f"no such file {file}", file=file, hint="check the path")
    else:
        try:
            df = pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)
        except (OSError, ValueError) as exc:  # a directory, an empty or damaged file (pandas, pyarrow)
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc).splitlines() or [repr(exc)])[0]
            raise InputError(f"cannot read transactions: {why.strip(chr(34) + chr(39))}", file=file,
                             hint="give a CSV or Parquet file of transactions in canonical columns") from None
    scorer = (Scorer.from_dir(model_dir, attribution=attribution) if model_dir
              else champion_scorer(attribution=attribution))
    from pesaguard.config import get_settings
    from pesaguard.decisions.batch import decide_frame
    from pesaguard.decisions.loader import load_policy

    policy = load_policy(get_settings(), rules, scorer)
    t0, c0 = time.perf_counter(), time.process_time()
    result = decide_frame(scorer, policy, df, reasons=reasons)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    out.parent.mkdir(parents=True, exist_ok=True)
    result.to_parquet(out, index=False) if out.suffix == ".parquet" else result.to_csv(out, index=False)
    say(f"scored {len(df):,} transactions in {elapsed:.2f} s ({len(df) / max(elapsed, 1e-9):,.0f}/s; "
        f"{cpu:.2f} s CPU, {len(df) / max(cpu, 1e-9):,.0f} per CPU second); "
        f"review {int((result.action == 'review').sum()):,}, block {int((result.action == 'block').sum()):,} -> {out}")


@app.command("list")
@handle_errors
def list_cmd() -> None:
    """List registered model versions, newest first; the champion is marked."""
    from pesaguard.models.registry import list_versions

    rows = list_versions()
    if not rows:
        say("no model is registered yet: run `pesaguard train`")
        return
    from rich import box

    from pesaguard.models.anomaly import mode_label

    table = Table(title="pesaguard-scoring (* champion)", box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, show_edge=False,
                  collapse_padding=True)
    for c in ("version", "mode", "model", "trained on", "val AP", "test AP", "P@100"):
        table.add_column(c, no_wrap=True, justify="right" if "AP" in c or "@" in c else "left")
    for r in rows:
        fmt = (lambda v: "-" if v is None else f"{v:.3f}")  # noqa: E731
        table.add_row(f"{r['version']}{' *' if r['champion'] else ''}", mode_label(r["candidate"]),
                      str(r["candidate"]), f"{str(r['train_start'])[:10]}..{str(r['train_end'])[5:10]}",
                      fmt(r["validation_average_precision"]), fmt(r["average_precision"]),
                      fmt(r["account_precision_at_100"]))
    console.print(table)


@app.command("promote")
@handle_errors
def promote_cmd(version: str = typer.Argument(..., help="The version to serve (see `pesaguard models list`).")) -> None:
    """Make VERSION the champion that serving loads (the previous one is kept for rollback)."""
    from pesaguard.models.registry import set_champion

    set_champion(version)
    say(f"champion is now version {version}")


@app.command("rollback")
@handle_errors
def rollback_cmd() -> None:
    """Restore the previous champion."""
    from pesaguard.models.registry import rollback

    say(f"champion is now version {rollback()}")
