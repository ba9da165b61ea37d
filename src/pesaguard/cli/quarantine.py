"""``pesaguard quarantine list|show|export|reingest``: what ingest set aside, and bringing it back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from pesaguard.cli.common import err_console, handle_errors, progress, say, write_json
from pesaguard.config import get_settings
from pesaguard.store import open_store

app = typer.Typer(help="Rows that ingest set aside: list, show, export for correction, reingest.",
                  no_args_is_help=True)


def _when(ms: int | None) -> str:
    return "unfinished" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


@app.command("list")
@handle_errors
def list_cmd(json_out: Path | None = typer.Option(None, "--json", help="Also write the summary as JSON here.")) -> None:
    """Each ingested file with its quarantined rows (still open), how many were labelled fraud, and its top rule."""
    from pesaguard.ingest.quarantine import quarantine_summary

    with open_store(get_settings()) as store:
        summary = quarantine_summary(store)
    if json_out is not None:
        write_json(json_out, summary.model_dump(mode="json"))
    if not summary.sources:
        say("nothing has been ingested into this store")
    for s in summary.sources:
        fraud = f" ({s.quarantined_frauds:,} of the file's {s.frauds:,} frauds)" if s.frauds is not None else ""
        corrects = f", corrects {s.corrects[:12]}" if s.corrects else ""
        say(f"[bold]{s.source_key[:12]}[/]  {Path(s.source).name}  {s.format}{corrects}, {_when(s.finished_ms)}: "
            f"{s.rows:,} rows, {s.quarantined:,} quarantined{fraud}, {s.resolved:,} resolved",
            highlight=False, soft_wrap=True)
        for rule, n in list(s.rules.items())[:5]:
            say(f"    {n:,}  {rule}", highlight=False, soft_wrap=True)
    if (line := summary.line()) is not None:
        say(f"all files: {line}")
    if summary.warning:
        err_console.print(f"[bold yellow]warning:[/] {summary.warning}", highlight=False, soft_wrap=True)


@app.command("show")
@handle_errors
def show_cmd(
    source: str = typer.Argument(..., help="A source key (its first 6+ characters) or the file's name or path."),
    rule: str | None = typer.Option(None, "--rule", help="Only rows of this rule (as `quarantine list` names it)."),
    limit: int = typer.Option(20, "--limit", min=1, help="Rows to show."),
    offset: int = typer.Option(0, "--offset", min=0, help="Rows to skip."),
    include_resolved: bool = typer.Option(False, "--all", help="Also rows whose correction was stored."),
) -> None:
    """The quarantined rows of one ingested file: row number, field, reason, label and the row as read."""
    from pesaguard.ingest.quarantine import shown_rows

    with open_store(get_settings()) as store:
        run, rows = shown_rows(store, source, rule=rule, limit=limit, offset=offset,
                               include_resolved=include_resolved)
        from pesaguard.store import quarantine as qstore

        rules = qstore.rule_counts(store, run["source_key"])
    say(f"{Path(run['source']).name} (source key {run['source_key'][:12]}): "
        + ", ".join(f"{r} {n:,}" for r, n in rules.items()), highlight=False, soft_wrap=True)
    for _, q in rows.iterrows():
        raw = json.loads(q["raw"]) if isinstance(q["raw"], str) else {}
        shown = raw.get("_raw") or ", ".join(f"{k}={v}" for k, v in raw.items())
        fraud = " [labelled fraud]" if q["is_fraud"] == 1 else ""
        resolved = " [resolved]" if q["resolved_ms"] == q["resolved_ms"] and q["resolved_ms"] is not None else ""
        say(f"row {q['row_number']}  {q['field']}: {q['reason']}{fraud}{resolved}", highlight=False, soft_wrap=True)
        say(f"    {str(shown)[:200]}", highlight=False, soft_wrap=True)
    if rows.empty:
        say("no quarantined rows" + (f" for rule {rule!r}" if rule else ""))


@app.command("export")
@handle_errors
def export_cmd(
    source: str = typer.Argument(..., help="A source key (its first 6+ characters) or the file's name or path."),
    out: Path = typer.Option(..., "--out", "-o", help="CSV file to write."),
    include_resolved: bool = typer.Option(False, "--all", help="Also rows whose correction was stored."),
) -> None:
    """Write one file's quarantined rows as CSV (the columns as read, plus _source_key, _row and _reason) to
    correct them; then `pesaguard quarantine reingest FILE`."""
    from pesaguard.ingest.quarantine import export_rows

    with open_store(get_settings()) as store:
        n = export_rows(store, source, out, include_resolved=include_resolved)
    say(f"wrote {n:,} rows to {out}; correct them, then run `pesaguard quarantine reingest {out}`")


@app.command("reingest")
@handle_errors
def reingest_cmd(
    path: Path = typer.Argument(..., help="A corrected file written by `pesaguard quarantine export`."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON to this file."),
) -> None:
    """Ingest corrected rows with the original file's format, map and options; each original row whose
    correction is valid is marked resolved. Running it again changes nothing."""
    from pesaguard.cli.ingest import _check_out, print_details
    from pesaguard.ingest.quarantine import reingest

    _check_out(json_out)
    with open_store(get_settings()) as store, progress(f"reingest {path.name}") as advance:
        report, resolved = reingest(store, path, progress=advance)
    say(report.summary())
    print_details(report)
    say(f"resolved {resolved:,} quarantined row(s) of the original file")
    if json_out is not None:
        write_json(json_out, {**report.model_dump(mode="json"), "resolved": resolved})
