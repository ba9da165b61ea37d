"""What quarantine holds, per ingested file and for the whole store, and how corrected rows come back.

* :func:`quarantine_summary` adds up, over every transaction file ingested (corrections left out),
  the rows read, the rows still quarantined and how many of those were labelled fraud, against
  the files' frauds; its ``warning`` is set when quarantine removes a noticeably larger share of
  frauds than of rows (:func:`~pesaguard.ingest.models.fraud_bias`), so the evaluation report
  can say so too.
* :func:`find_run` resolves what a user types (a source-key prefix, a file name or path) to one run.
* :func:`export_rows` writes a run's quarantined rows as they were read, with ``_source_key``,
  ``_row`` and ``_reason`` columns (and ``_raw`` for rows that did not split into columns), for
  correcting in a spreadsheet or editor.
* :func:`reingest` ingests such a corrected file with the original run's format, map and options,
  and marks each original row whose corrected version was valid as resolved. Running it again
  changes nothing.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.errors import NotFoundError, UsageError
from pesaguard.ingest.models import IngestOptions, IngestReport, fraud_bias, n_rows, pct
from pesaguard.ingest.pipeline import Progress, ingest_file
from pesaguard.ingest.readers import Source
from pesaguard.store import Store
from pesaguard.store import quarantine as qstore

EXPORT_COLUMNS = ("_source_key", "_row", "_reason")


class SourceSummary(BaseModel):
    """One ingested file's quarantine."""

    model_config = ConfigDict(extra="forbid")

    source_key: str
    source: str
    format: str
    finished_ms: int | None
    rows: int
    quarantined: int = Field(description="Rows still quarantined (not resolved).")
    quarantined_frauds: int = 0
    frauds: int | None = None
    resolved: int = 0
    corrects: str | None = None
    rules: dict[str, int] = Field(default_factory=dict)


class QuarantineSummary(BaseModel):
    """Quarantine over every transaction file of a store."""

    model_config = ConfigDict(extra="forbid")

    rows: int = 0
    quarantined: int = 0
    quarantined_frauds: int = 0
    frauds: int = 0
    sources: list[SourceSummary] = Field(default_factory=list)

    def line(self) -> str | None:
        """"quarantined 1,256 rows (0.07%), of them 1,214 labelled fraud (8.3% of the files' frauds)"."""
        if not self.quarantined or not self.rows:
            return None
        text = f"quarantined {n_rows(self.quarantined)} ({pct(self.quarantined, self.rows)})"
        if self.frauds:
            text += (f", of them {self.quarantined_frauds:,} labelled fraud "
                     f"({pct(self.quarantined_frauds, self.frauds)} of the files' frauds)")
        return text

    @property
    def biased(self) -> bool:
        return fraud_bias(self.rows, self.quarantined, self.frauds, self.quarantined_frauds)

    @property
    def warning(self) -> str | None:
        """The warning reports print, or None when quarantine is not biased against frauds."""
        if not self.biased:
            return None
        return (f"{self.line()}: quarantine removed a far larger share of frauds than of rows, so every model "
                "and metric on this store is biased; see `pesaguard quarantine list`")


def quarantine_summary(store: Store) -> QuarantineSummary:
    """Quarantine per ingested transaction file and in total (corrections and label files left out
    of the totals; a correction's resolved rows count as no longer quarantined)."""
    runs = qstore.load_runs(store)
    counts = qstore.quarantine_counts(store).set_index("source_key")
    out = QuarantineSummary()
    for _, run in runs.iterrows():
        key = str(run["source_key"])
        have = counts.loc[key] if key in counts.index else None
        s = SourceSummary(
            source_key=key, source=str(run["source"]), format=str(run["format"]),
            finished_ms=_int(run["finished_ms"]), rows=_int(run["rows_read"]) or 0,
            quarantined=int(have["open"]) if have is not None else 0,
            quarantined_frauds=int(have["open_frauds"]) if have is not None else 0,
            resolved=int(have["resolved"]) if have is not None else 0,
            frauds=_int(run["frauds"]), corrects=run["corrects"] if isinstance(run["corrects"], str) else None,
            rules=qstore.rule_counts(store, key) if have is not None and int(have["open"]) else {},
        )
        out.sources.append(s)
        if s.format == "labels" or s.corrects is not None:
            continue
        out.rows += s.rows
        out.quarantined += s.quarantined
        out.quarantined_frauds += s.quarantined_frauds
        out.frauds += s.frauds or 0
    return out


def quarantine_warning(store: Store) -> str | None:
    """:attr:`QuarantineSummary.warning` of the store (for reports)."""
    return quarantine_summary(store).warning


def find_run(store: Store, ref: str) -> dict[str, Any]:
    """The run a user means: a source-key prefix (6+ characters), or a file name or path (the
    latest run of that file)."""
    runs = qstore.load_runs(store)
    if runs.empty:
        raise NotFoundError("nothing has been ingested into this store", hint="run `pesaguard ingest FILE` first")
    if len(ref) >= 6:
        hits = runs[runs["source_key"].str.startswith(ref)]
        if hits["source_key"].nunique() > 1:
            raise UsageError(f"{ref!r} matches {hits['source_key'].nunique()} runs",
                             hint="give more characters of the source key (`pesaguard quarantine list`)")
        if len(hits):
            return dict(hits.iloc[-1])
    names = runs["source"].map(lambda s: Path(s).name)
    hits = runs[(runs["source"] == ref) | (names == Path(ref).name)]
    if hits.empty:
        raise NotFoundError(f"no ingest run matches {ref!r}",
                            hint="`pesaguard quarantine list` shows each file with its source key")
    return dict(hits.sort_values("started_ms").iloc[-1])


def export_rows(store: Store, ref: str, out: str | Path, *, include_resolved: bool = False) -> int:
    """Write a run's quarantined rows (as read, plus ``_source_key``, ``_row``, ``_reason``) to a
    CSV file; returns how many."""
    run = find_run(store, ref)
    rows = qstore.load_quarantine(store, run["source_key"], include_resolved=include_resolved)
    records = [json.loads(r) if isinstance(r, str) else {} for r in rows["raw"]]
    columns: dict[str, None] = {}
    broken = False
    for rec in records:
        for k in rec:
            if k in ("_raw", "_line"):
                broken = True
            else:
                columns.setdefault(k, None)
    header = [*EXPORT_COLUMNS, *columns, *(("_raw",) if broken else ())]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for (_, q), rec in zip(rows.iterrows(), records, strict=True):
            values = [run["source_key"], int(q["row_number"]), q["reason"]]
            values += ["" if rec.get(c) is None else rec[c] for c in columns]
            if broken:
                values.append(rec.get("_raw", ""))
            w.writerow(values)
    return len(rows)


def reingest(store: Store, path: str | Path, progress: Progress | None = None) -> tuple[IngestReport, int]:
    """Ingest a corrected export of quarantined rows with the original run's settings; returns the
    report and how many of the original run's quarantined rows it resolved."""
    src = Source(path)
    missing = [c for c in ("_source_key", "_row") if c not in src.columns]
    if missing:
        raise UsageError(f"{src.path.name} is not a quarantine export (no {missing[0]} column)",
                         hint="write one with `pesaguard quarantine export SOURCE --out FILE`, correct its rows, "
                              "then reingest that file")
    origin: dict[int, int] = {}
    keys: set[str] = set()
    for chunk in src.chunks(50_000, ["_source_key", "_row"]):
        for n, key, row in zip(chunk.row_numbers.tolist(), chunk.table.column("_source_key").to_pylist(),
                               chunk.table.column("_row").to_pylist(), strict=True):
            keys.add(str(key))
            if row is not None and str(row).strip().isdigit():
                origin[n] = int(str(row).strip())
    if len(keys) != 1:
        raise UsageError(f"{src.path.name} holds rows of {len(keys)} runs", hint="reingest one export at a time")
    key = keys.pop()
    run = qstore.get_run(store, key)
    if run is None or not run.get("settings"):
        raise NotFoundError(f"the run {key[:12]} is not in this store (or was ingested before runs kept "
                            "their settings)", hint="ingest the corrected rows with `pesaguard ingest` instead")
    settings = json.loads(run["settings"])
    options = IngestOptions(**{k: v for k, v in settings["options"].items()})
    report = ingest_file(store, src.path, settings["format"], settings["map"] or None, options, progress,
                         corrects=key)
    still = set(qstore.load_quarantine(store, report.source_key)["row_number"].astype(int).tolist())
    fixed = [orig for n, orig in origin.items() if n not in still]
    return report, qstore.resolve(store, key, fixed, report.source_key)


def shown_rows(store: Store, ref: str, *, rule: str | None = None, limit: int = 20, offset: int = 0,
               include_resolved: bool = False) -> tuple[dict[str, Any], pd.DataFrame]:
    """(the run, its quarantined rows) for display."""
    run = find_run(store, ref)
    rows = qstore.load_quarantine(store, run["source_key"], rule=rule, include_resolved=include_resolved,
                                  limit=limit, offset=offset)
    return run, rows


def _int(v: Any) -> int | None:
    return None if v is None or (isinstance(v, float) and v != v) else int(v)
