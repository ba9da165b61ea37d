"""``pesaguard monitor report|check|reference|promote|shadow`` and ``pesaguard retrain``.

Exit codes of ``monitor check`` (as Nagios-style checks do): 0 ok, 1 warnings (only with
``--fail-on warn``), 2 alarm; errors keep their own codes (64 and up).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from pesaguard.cli.common import console, handle_errors, quiet_mlflow, result, say, write_json
from pesaguard.config import get_settings
from pesaguard.errors import UsageError
from pesaguard.monitoring.config import load_monitoring_settings
from pesaguard.schema import to_ms
from pesaguard.store import Store, open_store

if TYPE_CHECKING:  # the reference imports the feature engine (numba): only commands that use it load it
    from pesaguard.monitoring.drift_reference import Reference

app = typer.Typer(help="Watch the prediction log: drift, alert rate, delayed-label performance, segments.",
                  no_args_is_help=True)

EXIT = {"ok": 0, "warn": 1, "alarm": 2}

_SINCE = typer.Option(None, "--since", help="First transaction day to include (UTC), e.g. 2024-03-01.")
_UNTIL = typer.Option(None, "--until", help="End of the period (UTC, exclusive; also the 'as of' time for "
                      "labels). Default: just after the newest decision.")
_CONFIG = typer.Option(None, "--config", help="YAML file with `monitor:` and `gate:` thresholds.")
_REFERENCE = typer.Option(None, "--reference", help="A reference.json (default: the champion's, recomputed "
                          "from its training window if it has none).")


def _ms(value: datetime | None) -> int | None:
    return None if value is None else to_ms(value)


def _reference(store: Store, path: Path | None) -> Reference:
    if path is not None:
        from pesaguard.monitoring.drift_reference import Reference

        return Reference.load(path)
    from pesaguard.monitoring.retrain import champion_reference

    return champion_reference(store, get_settings())


def _compute(since: datetime | None, until: datetime | None, config: Path | None, reference: Path | None,
             light: bool) -> dict[str, Any]:
    from pesaguard.monitoring import snapshot

    if since is not None and until is not None and until <= since:
        raise UsageError("--until must be after --since", hint="for example --since 2024-03-01 --until 2024-04-01")
    cfg = load_monitoring_settings(config).monitor
    with open_store(get_settings()) as store:
        ref = _reference(store, reference)
        log, labels, lo, hi = snapshot.load(store, _ms(since), _ms(until))
        res = snapshot.analyse(log, labels, ref, cfg, lo, hi, light=light)
        res["snapshot_id"] = snapshot.save(store, res)
    return res


def _alarm_lines(res: dict[str, Any]) -> None:
    w = res["window"]
    if not w.get("enough", True):
        need = w["needs"]
        result(f"too little to judge drift: {w['decisions']:,} decisions over {w['span_hours']:.1f} h of event "
               f"time in the window (drift and alert-rate verdicts need {need['decisions']:,} decisions over "
               f"{need['hours']:g} h: traffic changes through the day)")
    for a in res["alarms"]:
        extra = " ".join(f"{k}={a[k]:.4g}" for k in ("psi", "ks", "value", "ratio", "reference") if a.get(k) is not None)
        result(f"[{'red' if a['level'] == 'alarm' else 'yellow'}]{a['level']}[/]: {a['kind']} {a['name']} {extra}")


@app.command()
@handle_errors
def report(
    out: Path = typer.Option(..., "--out", help="Directory for report.html, report.json and the figures."),
    since: datetime | None = _SINCE,
    until: datetime | None = _UNTIL,
    config: Path | None = _CONFIG,
    reference: Path | None = _REFERENCE,
) -> None:
    """Write the monitoring report (HTML with PNG figures, each figure's data as JSON) and store a snapshot."""
    from pesaguard.monitoring.report import write_report

    res = _compute(since, until, config, reference, light=False)
    paths = write_report(res, out)
    _alarm_lines(res)
    result(f"{res['decisions']:,} decisions, level {res['level']} -> {paths['html']}")


@app.command()
@handle_errors
def check(
    since: datetime | None = _SINCE,
    until: datetime | None = _UNTIL,
    config: Path | None = _CONFIG,
    reference: Path | None = _REFERENCE,
    fail_on: str = typer.Option("alarm", "--fail-on", help="Exit non-zero on `alarm` (exit 2) or also on `warn` "
                                "(exit 1)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the alarms and drift table as JSON."),
) -> None:
    """Evaluate the drift, alert-rate and performance alarms for the latest window; store a snapshot.

    Exit code: 0 ok, 1 warn (with --fail-on warn), 2 alarm.
    """
    if fail_on not in ("alarm", "warn"):
        raise UsageError(f"--fail-on must be alarm or warn, not {fail_on!r}", field="--fail-on",
                         hint="use --fail-on alarm (default) or --fail-on warn")
    res = _compute(since, until, config, reference, light=True)
    _alarm_lines(res)
    result(f"level: {res['level']} ({res['window']['decisions']:,} decisions in the last "
           f"{res['window']['days']} days)")
    if json_out is not None:
        from pesaguard.monitoring.snapshot import finite

        write_json(json_out, finite({k: res[k] for k in ("level", "alarms", "drift", "alert_rate", "window")}))
    code = EXIT[res["level"]]
    if code == 2 or (code == 1 and fail_on == "warn"):
        raise typer.Exit(code)


@app.command("reference")
@handle_errors
def reference_cmd(
    start: datetime = typer.Option(..., "--from", help="Start of the model's training window (UTC)."),
    end: datetime = typer.Option(..., "--to", help="End of the training window (UTC, exclusive)."),
) -> None:
    """Recompute the champion's monitoring reference from a training window and save it with the model."""
    from pesaguard.monitoring.drift_reference import reference_from_store
    from pesaguard.monitoring.retrain import champion, reference_dir

    settings = get_settings()
    bundle = champion(settings)
    with open_store(settings) as store:
        ref = reference_from_store(store, bundle, to_ms(start), to_ms(end))
    path = ref.save(reference_dir(settings, bundle.version))
    result(f"reference of model {bundle.version}: {ref.rows:,} rows, alert rate {ref.alert_rate:.4f} -> {path}")


@app.command()
@handle_errors
def promote() -> None:
    """Promote the newest retraining run's challenger if it passed the gate (idempotent)."""
    from pesaguard.monitoring.retrain import promote_latest

    settings = get_settings()
    with open_store(settings) as store:
        run = promote_latest(store, settings)
    verb = "promoted" if run["action"] == "promoted" else "nothing to promote for"
    result(f"{verb} challenger {run['challenger_version']} (gate "
           f"{'passed' if run['comparison']['passed'] else 'failed'})")


@app.command()
@handle_errors
def shadow(model_version: str | None = typer.Option(None, "--model-version", help="Only this shadow model.")) -> None:
    """Compare logged shadow scores with the champion's: agreement on alerts and score differences."""
    from pesaguard.monitoring.shadow import summarise_shadow

    with open_store(get_settings()) as store:
        rows = summarise_shadow(store, model_version)
    if not rows:
        say("no shadow scores are logged: set PESAGUARD_SHADOW_MODEL and serve traffic")
        return
    table = Table("shadow model", "scored", "mean |diff|", "champion alerts", "alert overlap")
    for r in rows:
        overlap = "-" if r["alert_overlap"] is None else f"{r['alert_overlap']:.1%}"
        table.add_row(r["model_version"], f"{r['scored']:,}", f"{r['mean_abs_diff']:.4f}", f"{r['champion_alerts']:,}",
                      overlap)
    console.print(table)


@handle_errors
def retrain_cmd(
    as_of: datetime | None = typer.Option(None, "--as-of", help="Deployment time (UTC): labels known before it "
                                          "are used. Default: just after the newest stored transaction."),
    config: Path | None = _CONFIG,
    promote_: bool = typer.Option(True, "--promote/--no-promote", help="Promote a challenger that passes the gate "
                                  "(--no-promote: register and report only; `pesaguard monitor promote` later)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the comparison as JSON here."),
) -> None:
    """Train a challenger on the latest matured labels, compare it with the champion on a recent holdout,
    and promote it only if it beats the champion by the configured margins with no segment regressing."""
    from pesaguard.monitoring.retrain import retrain

    settings = get_settings()
    gate = load_monitoring_settings(config).gate
    gate = gate.model_copy(update={"promote": gate.promote and promote_})
    quiet_mlflow()
    with open_store(settings) as store:
        run = retrain(store, settings, gate, _ms(as_of), say=say)
    comp = run["comparison"]
    for reason in comp["reasons"]:
        result(f"  {reason}")
    result(f"challenger {run['challenger_version']} vs champion {run['champion_version']}: gate "
           f"{'PASSED' if comp['passed'] else 'FAILED'}; {'promoted' if run['promoted'] else 'not promoted'}")
    if json_out is not None:
        from pesaguard.monitoring.snapshot import finite

        write_json(json_out, finite(run))
