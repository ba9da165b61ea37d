"""``pesaguard ingest`` and ``pesaguard ingest-labels``: files into the store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from pesaguard.cli.common import err_console, handle_errors, progress, say, write_json
from pesaguard.config import get_settings
from pesaguard.errors import InputError, UsageError
from pesaguard.ingest import IngestOptions, IngestReport, ingest_file, ingest_labels, parse_map
from pesaguard.ingest.models import (
    DEFAULT_START,
    LABEL_MAP_OPTIONAL,
    LABEL_MAP_REQUIRED,
    TXN_MAP_OPTIONAL,
    TXN_MAP_REQUIRED,
)
from pesaguard.store import open_store


@handle_errors
def ingest_cmd(
    path: Path = typer.Argument(..., help="CSV, .csv.gz or Parquet file of transactions."),
    fmt: str = typer.Option("auto", "--format", "-f",
                            help="auto (PaySim if the header says so, else generic), paysim or generic."),
    map_: str | None = typer.Option(
        None, "--map",
        help="generic: KEY=COLUMN pairs, comma-separated. Required keys: " + ", ".join(TXN_MAP_REQUIRED)
        + "; optional: " + ", ".join(TXN_MAP_OPTIONAL) + ". A key left out uses a column of the same name."),
    start: datetime = typer.Option(DEFAULT_START.replace(tzinfo=None), "--start",
                                   help="PaySim: the time of step 0 (UTC); step N is N hours later."),
    label_delay_days: float = typer.Option(
        0.0, "--label-delay-days", min=0,
        help="Fraud labels from the file (PaySim isFraud, generic label) become known this many days after "
             "the transaction (unless a label_time column says when)."),
    labels: str = typer.Option("fraud", "--labels",
                               help="Label rows to write: fraud (frauds only; unlabelled = legitimate), all, none."),
    time_unit: str = typer.Option("auto", "--time-unit",
                                  help="Numeric times: s, ms, or auto (below 1e11 = seconds). ISO-8601 always "
                                       "works; a time without a zone is UTC."),
    amount_unit: str = typer.Option("major", "--amount-unit",
                                    help="major: 12.50 (up to 2 decimals, parsed exactly); minor: 1250."),
    currency: str | None = typer.Option(None, "--currency", help="Currency for rows without one (default: "
                                                                  "PESAGUARD_CURRENCY)."),
    chunk_rows: int = typer.Option(50_000, "--chunk-rows", min=1, help="Rows committed per database transaction."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON to this path."),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero if any row was quarantined."),
) -> None:
    """Ingest a transaction file. Bad rows go to quarantine with their row number, field and reason.

    Prints "read N, accepted A, quarantined Q, duplicates D" (A+Q+D = N; duplicates are rows whose id is already stored or repeated in the file). Running it again adds nothing; after a crash, running it again completes the ingest. Exits non-zero when nothing was readable (missing columns, every row quarantined) or, with --strict, when any row was quarantined.

    Row numbers: rows are numbered from 1 at the first data row below the header (row 1 is line 2 of a CSV); blank lines are not counted.
    """
    settings = get_settings()
    options = _options(start=start, label_delay_days=label_delay_days, labels=labels, time_unit=time_unit,
                       amount_unit=amount_unit, currency=(currency or settings.currency).upper(), chunk_rows=chunk_rows)
    column_map = parse_map(map_, TXN_MAP_REQUIRED + TXN_MAP_OPTIONAL)
    with open_store(settings) as store, progress(f"ingest {path.name}") as advance:
        report = ingest_file(store, path, fmt, column_map, options, progress=advance)  # type: ignore[arg-type]
    _done(report, json_out, strict)


@handle_errors
def ingest_labels_cmd(
    path: Path = typer.Argument(..., help="CSV, .csv.gz or Parquet file of labels."),
    map_: str | None = typer.Option(
        None, "--map",
        help="KEY=COLUMN pairs. Required: " + ", ".join(LABEL_MAP_REQUIRED) + "; optional: "
        + ", ".join(LABEL_MAP_OPTIONAL) + ". A key left out uses a column of the same name."),
    known_at: datetime | None = typer.Option(
        None, "--known-at", help="Without a known_at column: when the labels became known (UTC; default: the "
                                 "file's modification time)."),
    source: str | None = typer.Option(None, "--source", help="labels.source when the file has none (default: file)."),
    time_unit: str = typer.Option("auto", "--time-unit", help="Numeric known_at: s, ms or auto."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the report as JSON to this path."),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero if any row was quarantined."),
) -> None:
    """Ingest labels that arrive after the transactions (label: 1/0/true/false/fraud/legit/legitimate).

    Labels for transactions not in the store are kept (they may arrive first) and counted as unmatched. Counting, quarantine, exit codes and re-runs work as for `pesaguard ingest`.

    Row numbers: rows are numbered from 1 at the first data row below the header (row 1 is line 2 of a CSV); blank lines are not counted.
    """
    settings = get_settings()
    options = _options(known_at=known_at, label_source=source, time_unit=time_unit)
    column_map = parse_map(map_, LABEL_MAP_REQUIRED + LABEL_MAP_OPTIONAL)
    with open_store(settings) as store, progress(f"labels {path.name}") as advance:
        report = ingest_labels(store, path, column_map, options, progress=advance)
    _done(report, json_out, strict)


def _options(**values: Any) -> IngestOptions:
    try:
        return IngestOptions(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).replace("_", "-")
        raise UsageError(f"--{name}: {err['msg']}", hint="see pesaguard ingest --help") from None


def _done(report: IngestReport, json_out: Path | None, strict: bool) -> None:
    say(report.summary())
    say(f"{report.rows_per_s:,.0f} rows/s in {report.elapsed:.1f} s"
        + (f"; {report.labels} new labels" if report.labels and report.format != "labels" else ""))
    if report.top_reasons:
        say("quarantined by field: " + ", ".join(f"{k} {v}" for k, v in report.top_reasons.items()))
    if json_out is not None:
        write_json(json_out, report.model_dump())
    if report.read > 0 and report.quarantined == report.read:
        raise InputError(f"every row ({report.read}) was quarantined", file=report.source,
                         hint="check --format and --map; `pesaguard db status` and the quarantine table "
                              "show the reasons")
    if strict and report.quarantined:
        err_console.print(f"[bold red]error:[/] {report.quarantined} row(s) quarantined (--strict)")
        raise typer.Exit(InputError.exit_code)
