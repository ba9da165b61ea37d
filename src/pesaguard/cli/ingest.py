"""``pesaguard ingest``, ``ingest-labels`` and ``inspect``: files into the store, or profiled first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from pesaguard.cli.common import console, err_console, handle_errors, progress, say, write_json
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

# Options shared by ingest, ingest-labels and inspect (how values are read).
_TIME_UNIT = typer.Option("auto", "--time-unit", help="Numeric times: s, ms, or auto (by magnitude: seconds below "
                                                      "1e11, then ms, us, ns). ISO 8601 always works.")
_TIME_FORMAT = typer.Option(None, "--time-format", help="strftime codes every time must match, e.g. "
                                                        "'%d/%m/%Y %H:%M' for day-first times.")
_TZ = typer.Option("UTC", "--tz", help="Time zone of times without an offset (IANA name, e.g. Africa/Nairobi).")
_ENCODING = typer.Option(None, "--encoding", help="Text encoding (default: detected: UTF-8, or Windows-1252/"
                                                  "Latin-1).")
_DELIMITER = typer.Option(None, "--delimiter", help="CSV delimiter: one character or 'tab' (default: sniffed "
                                                    "among comma, semicolon, tab and pipe).")
_DECIMAL = typer.Option(".", "--decimal", help="Decimal mark of amounts: '.' or ',' (1.200,50).")
_ROUND = typer.Option("none", "--round", help="Amounts finer than a cent (not float artefacts): none "
                                              "(quarantine them) or half-even (round them).")
_JSON = typer.Option(None, "--json", help="Also write the report as JSON to this file.")


@handle_errors
def ingest_cmd(
    path: Path = typer.Argument(..., help="CSV (also .gz, .zst, .bz2), JSON Lines or Parquet file of transactions."),
    fmt: str = typer.Option("auto", "--format", "-f",
                            help="auto (PaySim if the header says so, else generic), paysim or generic."),
    map_: str | None = typer.Option(
        None, "--map",
        help="generic: KEY=COLUMN pairs, comma-separated. Required keys: " + ", ".join(TXN_MAP_REQUIRED)
        + "; optional: " + ", ".join(k for k in TXN_MAP_OPTIONAL if k != "label_time")
        + ". A key left out uses a column of the same name. `pesaguard inspect FILE` proposes a map."),
    start: datetime = typer.Option(DEFAULT_START.replace(tzinfo=None), "--start",
                                   help="PaySim: the time of step 0 (UTC); step N is N hours later."),
    label_delay_days: float | None = typer.Option(
        None, "--label-delay-days",
        help="Fraud labels in the file (PaySim isFraud, generic label) became known this many days after "
             "their transaction (a known_at column wins where it has a value). A labelled file needs this, "
             "a known_at column, or --labels-known-at-transaction."),
    labels_at_transaction: bool = typer.Option(
        False, "--labels-known-at-transaction",
        help="The labels were known at their transaction's time. Label-based features then see frauds at once, "
             "which no live system can: the labels are recorded as such and a warning is printed."),
    labels: str = typer.Option("fraud", "--labels",
                               help="Label rows to write: fraud (frauds only; unlabelled = legitimate), all, none."),
    time_unit: str = _TIME_UNIT,
    time_format: str | None = _TIME_FORMAT,
    tz: str = _TZ,
    amount_unit: str = typer.Option("major", "--amount-unit",
                                    help="major: 12.50 (up to 2 decimals, parsed exactly); minor: 1250."),
    decimal: str = _DECIMAL,
    rounding: str = _ROUND,
    encoding: str | None = _ENCODING,
    delimiter: str | None = _DELIMITER,
    currency: str | None = typer.Option(None, "--currency", help="Currency for rows without one (default: "
                                                                  "PESAGUARD_CURRENCY)."),
    chunk_rows: int = typer.Option(50_000, "--chunk-rows", min=1, help="Rows committed per database transaction."),
    json_out: Path | None = _JSON,
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero if any row was quarantined."),
) -> None:
    """Ingest a transaction file. Bad rows go to quarantine with their row number, field and reason.

    Prints "read N, accepted A, quarantined Q, duplicates D" (A+Q+D = N; duplicates are rows whose id is already stored or repeated in the file), the quarantine counts by rule, and how many quarantined rows were labelled fraud, with a warning when quarantine removes a larger share of frauds than of rows. Running it again adds nothing; after a crash, running it again completes the ingest. Exits non-zero when nothing was readable (an empty or header-only file, missing columns, every row quarantined) or, with --strict, when any row was quarantined.

    Row numbers: rows are numbered from 1 at the first data row below the header (row 1 is line 2 of a CSV); blank lines are not counted.
    """
    settings = get_settings()
    _check_out(json_out)
    if label_delay_days is not None and label_delay_days <= 0:
        raise UsageError(f"--label-delay-days {label_delay_days:g}: labels known at their transaction's time "
                         "must be said so", hint="use --labels-known-at-transaction, or a delay above 0")
    options = _options(start=start, label_delay_days=label_delay_days, labels_at_transaction=labels_at_transaction,
                       labels=labels, time_unit=time_unit, time_format=time_format, tz=tz, amount_unit=amount_unit,
                       decimal=decimal, rounding=rounding, encoding=encoding, delimiter=delimiter,
                       currency=(currency or settings.currency).upper(), chunk_rows=chunk_rows)
    column_map = parse_map(map_, TXN_MAP_REQUIRED + TXN_MAP_OPTIONAL)
    with open_store(settings) as store, progress(f"ingest {path.name}") as advance:
        report = ingest_file(store, path, fmt, column_map, options, progress=advance)  # type: ignore[arg-type]
    done(report, json_out, strict)


@handle_errors
def ingest_labels_cmd(
    path: Path = typer.Argument(..., help="CSV (also .gz, .zst, .bz2), JSON Lines or Parquet file of labels."),
    map_: str | None = typer.Option(
        None, "--map",
        help="KEY=COLUMN pairs. Required: " + ", ".join(LABEL_MAP_REQUIRED) + "; optional: "
        + ", ".join(LABEL_MAP_OPTIONAL) + ". A key left out uses a column of the same name."),
    known_at: datetime | None = typer.Option(
        None, "--known-at", help="Without a known_at column: when the labels became known (UTC; default: the "
                                 "file's modification time)."),
    source: str | None = typer.Option(None, "--source", help="labels.source when the file has none (default: file)."),
    time_unit: str = _TIME_UNIT,
    time_format: str | None = _TIME_FORMAT,
    tz: str = _TZ,
    encoding: str | None = _ENCODING,
    delimiter: str | None = _DELIMITER,
    json_out: Path | None = _JSON,
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero if any row was quarantined."),
) -> None:
    """Ingest labels that arrive after the transactions (label: 1/0/true/false/fraud/legit/legitimate).

    Labels for transactions not in the store are kept (they may arrive first) and counted as unmatched. Counting, quarantine, exit codes and re-runs work as for `pesaguard ingest`.

    Row numbers: rows are numbered from 1 at the first data row below the header (row 1 is line 2 of a CSV); blank lines are not counted.
    """
    settings = get_settings()
    _check_out(json_out)
    options = _options(known_at=known_at, label_source=source, time_unit=time_unit, time_format=time_format, tz=tz,
                       encoding=encoding, delimiter=delimiter)
    column_map = parse_map(map_, LABEL_MAP_REQUIRED + LABEL_MAP_OPTIONAL)
    with open_store(settings) as store, progress(f"labels {path.name}") as advance:
        report = ingest_labels(store, path, column_map, options, progress=advance)
    done(report, json_out, strict)


def _options(**values: Any) -> IngestOptions:
    try:
        return IngestOptions(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = {"rounding": "round"}.get(str(err["loc"][0]), str(err["loc"][0])).replace("_", "-")
        raise UsageError(f"--{name}: {err['msg']}", hint="see pesaguard ingest --help") from None


def _check_out(path: Path | None) -> None:
    """Refuse a --json path that cannot be written, before any work is done."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"--json {path} is a directory", hint=f"give a file path, such as {path / 'report.json'}")
    parent = path.parent if str(path.parent) else Path(".")
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UsageError(f"--json {path}: {existing} is a file, not a directory", hint="give another path")


def done(report: IngestReport, json_out: Path | None, strict: bool) -> None:
    """Print the report (and write it as JSON), then exit non-zero if nothing was readable."""
    say(report.summary())
    print_details(report)
    say(f"{report.rows_per_s:,.0f} rows/s in {report.elapsed:.1f} s")
    if json_out is not None:
        try:
            write_json(json_out, report.model_dump(mode="json"))
        except OSError as exc:
            raise UsageError(f"cannot write --json {json_out}: {exc.strerror}",
                             hint="give a path in a writable directory") from None
    if report.read == 0:
        raise InputError("the file has a header but no data rows", file=report.source,
                         hint="check that the export that wrote it finished; nothing was stored")
    if report.quarantined == report.read:
        raise InputError(f"every row ({report.read}) was quarantined", file=report.source,
                         hint="check --format and --map (`pesaguard inspect FILE` proposes them); "
                              f"`pesaguard quarantine show {report.source_key[:12]}` shows the reasons")
    if strict and report.quarantined:
        err_console.print(f"[bold red]error:[/] {report.quarantined} row(s) quarantined (--strict)")
        raise typer.Exit(InputError.exit_code)


def print_details(report: IngestReport) -> None:
    """What was detected, the labels, quarantine by rule with an example, adjustments and warnings."""
    f = report.file
    detected = ", ".join(str(v) for v in (f.get("kind"), f.get("compression"), f.get("encoding"),
                                          f.get("delimiter") and f"{f['delimiter']}-separated") if v)
    if detected:
        say(f"file: {detected}", highlight=False)
    for note in report.notes:
        say(f"  {note}", highlight=False, soft_wrap=True)
    if report.label_timing:
        frauds = f"{report.frauds:,} rows labelled fraud, " if report.frauds is not None else ""
        say(f"labels: {frauds}{report.label_timing}; {report.labels:,} new label rows", highlight=False,
            soft_wrap=True)
    for rule, n in list(report.reasons.items())[:8]:
        ex = report.examples.get(rule, [])
        first = f" (e.g. row {ex[0].row}: {ex[0].text})" if ex else ""
        say(f"  quarantined {n:,}: {rule}{first}", highlight=False, soft_wrap=True)
    for kind, n in report.adjustments.items():
        ex = report.adjustment_examples.get(kind, [])
        first = f" (e.g. row {ex[0].row}: {ex[0].text})" if ex else ""
        say(f"  adjusted {n:,}: {kind}{first}", highlight=False, soft_wrap=True)
    if (line := report.fraud_line()) is not None and report.frauds:
        say(line, highlight=False, soft_wrap=True)
    for warning in report.warnings:
        err_console.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


@handle_errors
def inspect_cmd(
    path: Path = typer.Argument(..., help="CSV (also .gz, .zst, .bz2), JSON Lines or Parquet file of transactions."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto, paysim or generic."),
    map_: str | None = typer.Option(None, "--map", help="KEY=COLUMN pairs to use instead of the proposed ones."),
    rows: int | None = typer.Option(None, "--rows", min=1, help="Read only this many rows (default: the whole file)."),
    label_delay_days: float | None = typer.Option(None, "--label-delay-days", help="As for ingest (for the command)."),
    labels_at_transaction: bool = typer.Option(False, "--labels-known-at-transaction", help="As for ingest."),
    time_unit: str = _TIME_UNIT,
    time_format: str | None = _TIME_FORMAT,
    tz: str = _TZ,
    amount_unit: str = typer.Option("major", "--amount-unit", help="major (12.50) or minor (1250)."),
    decimal: str = _DECIMAL,
    rounding: str = _ROUND,
    encoding: str | None = _ENCODING,
    delimiter: str | None = _DELIMITER,
    json_out: Path | None = typer.Option(None, "--json", help="Also write the profile as JSON to this file."),
) -> None:
    """Profile a file before ingesting it: nothing is stored.

    Shows what was detected (encoding, delimiter, compression), each column's inferred type, the --map it would use, how many rows each rule would quarantine (with examples), the values a rule would adjust, the label balance and the time range, and ends with the `pesaguard ingest` command that loads the file.
    """
    from pesaguard.ingest.inspect import inspect_file

    _check_out(json_out)
    options = _options(label_delay_days=label_delay_days, labels_at_transaction=labels_at_transaction,
                       time_unit=time_unit, time_format=time_format, tz=tz, amount_unit=amount_unit,
                       decimal=decimal, rounding=rounding, encoding=encoding, delimiter=delimiter)
    column_map = parse_map(map_, TXN_MAP_REQUIRED + TXN_MAP_OPTIONAL)
    prof = inspect_file(path, fmt, column_map, options, max_rows=rows)
    if json_out is not None:
        write_json(json_out, prof.model_dump(mode="json"))
    _print_profile(prof)


def _print_profile(prof: Any) -> None:
    from rich.table import Table

    f = prof.file
    detected = ", ".join(str(v) for v in (f.get("kind"), f.get("compression"), f.get("encoding"),
                                          f.get("delimiter") and f"{f['delimiter']}-separated") if v)
    console.print(f"[bold]{Path(prof.source).name}[/]: {detected}; format {prof.format}", highlight=False)
    for note in prof.notes:
        console.print(f"  {note}", highlight=False)
    table = Table(title="columns", title_justify="left")
    for col in ("column", "type", "empty", "distinct", "example", "--map"):
        table.add_column(col, justify="right" if col in ("empty", "distinct") else "left")
    keys = {v: k for k, v in prof.map.items()}
    for c in prof.columns:
        kind = c.kind + (f" ({c.detail})" if c.detail else "")
        table.add_row(c.name, kind, f"{c.empty:,}", f"{c.distinct:,}", c.example or "", keys.get(c.name, ""))
    console.print(table)
    r = prof.report
    if r is not None:
        scope = f"first {r.read:,} rows" if prof.sampled else f"{r.read:,} rows"
        console.print(f"{scope}: would store {r.accepted:,}, quarantine {r.quarantined:,}, "
                      f"repeated ids {prof.repeated_ids:,}", highlight=False)
        for rule, n in r.reasons.items():
            ex = "; ".join(f"row {e.row}: {e.text}" for e in r.examples.get(rule, []))
            console.print(f"  quarantine {n:,}: {rule} (e.g. {ex})", highlight=False, soft_wrap=True)
        for kind, n in r.adjustments.items():
            ex = "; ".join(f"row {e.row}: {e.text}" for e in r.adjustment_examples.get(kind, []))
            console.print(f"  adjust {n:,}: {kind} (e.g. {ex})", highlight=False, soft_wrap=True)
        if (line := r.fraud_line()) is not None and r.frauds:
            console.print(f"  {line}", highlight=False)
    if prof.label_counts:
        lc = prof.label_counts
        total = sum(lc.values()) or 1
        console.print(f"labels: {lc['fraud']:,} fraud ({100 * lc['fraud'] / total:.2f}%), "
                      f"{lc['legitimate']:,} legitimate, {lc['empty']:,} empty", highlight=False)
    if prof.time_range:
        console.print(f"times: {prof.time_range[0]} .. {prof.time_range[1]}", highlight=False)
    for w in prof.warnings:
        err_console.print(f"[bold yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    console.print("ingest with:", highlight=False)
    console.print(f"  {prof.command}", highlight=False, soft_wrap=True, markup=False)
