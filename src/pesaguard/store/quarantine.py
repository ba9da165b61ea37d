"""Repository functions of the ingest: quarantined rows, ingest runs and label timing.

Every write is idempotent: a quarantined row is keyed by (source key, row number), a run by its
source key (re-running overwrites its counts), a label-timing record by (source key, label source).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

from pesaguard.store.base import Store

QUARANTINE_COLUMNS = ("source_key", "source", "row_number", "field", "reason", "raw", "created_ms", "rule",
                      "is_fraud")
QUARANTINE_KEY = ("source_key", "row_number")
RUN_COLUMNS = ("source_key", "source", "format", "started_ms", "finished_ms", "rows_read", "accepted",
               "quarantined", "duplicates", "frauds", "quarantined_frauds", "settings", "corrects", "report")
TIMING_COLUMNS = ("source_key", "label_source", "timing", "delay_ms", "updated_ms")
#: (row number, field, reason, raw record, label 1/0/None, rule)
Entry = tuple[int, str, str, "dict[str, Any] | None", "int | None", str]


def _now() -> int:
    return int(time.time() * 1000)


# -- quarantined rows ------------------------------------------------------------------------


def quarantine_rows(source_key: str, source: str, entries: Sequence[Entry]) -> list[tuple[Any, ...]]:
    """Entries as rows in QUARANTINE_COLUMNS order (the raw record as JSON)."""
    now = _now()
    return [(source_key, source, rn, field, reason, json.dumps(raw, default=str) if raw is not None else None,
             now, rule, is_fraud) for rn, field, reason, raw, is_fraud, rule in entries]


def insert_quarantine(store: Store, source_key: str, source: str, entries: Sequence[Entry], cur: Any = None) -> int:
    """Quarantine rows; idempotent per (source key, row number). Returns how many were new."""
    sql = store.insert_ignore("quarantine", QUARANTINE_COLUMNS, QUARANTINE_KEY)
    rows = quarantine_rows(source_key, source, entries)
    return store.executemany_in(cur, sql, rows) if cur is not None else store.executemany(sql, rows)


def load_quarantine(store: Store, source_key: str | None = None, *, rule: str | None = None,
                    include_resolved: bool = True, limit: int | None = None, offset: int = 0) -> pd.DataFrame:
    """Quarantined rows in source and row order (``rule`` matches the start of the rule)."""
    cols = ("source_key", "source", "row_number", "field", "reason", "raw", "rule", "is_fraud", "resolved_ms",
            "resolved_by")
    where, params = [], []
    if source_key is not None:
        where.append("source_key = ?")
        params.append(source_key)
    if rule is not None:
        where.append("rule = ?")
        params.append(rule)
    if not include_resolved:
        where.append("resolved_ms IS NULL")
    sql = f"SELECT {', '.join(cols)} FROM quarantine"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY source_key, row_number"
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return pd.DataFrame.from_records(store.query(sql, params), columns=list(cols))


def quarantine_counts(store: Store) -> pd.DataFrame:
    """Per source key: quarantined rows still open, of them labelled fraud, and rows resolved."""
    rows = store.query(
        "SELECT source_key, SUM(CASE WHEN resolved_ms IS NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN resolved_ms IS NULL AND is_fraud = 1 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN resolved_ms IS NULL THEN 0 ELSE 1 END) FROM quarantine GROUP BY source_key")
    return pd.DataFrame.from_records(
        [(k, int(a or 0), int(b or 0), int(c or 0)) for k, a, b, c in rows],
        columns=["source_key", "open", "open_frauds", "resolved"])


def rule_counts(store: Store, source_key: str) -> dict[str, int]:
    """Open quarantined rows of one source by rule, most frequent first."""
    rows = store.query("SELECT COALESCE(rule, field), COUNT(*) FROM quarantine WHERE source_key = ? AND "
                       "resolved_ms IS NULL GROUP BY COALESCE(rule, field) ORDER BY COUNT(*) DESC", (source_key,))
    return {str(r): int(n) for r, n in rows}


def resolve(store: Store, source_key: str, row_numbers: Sequence[int], by: str) -> int:
    """Mark quarantined rows of ``source_key`` as stored by the run ``by``; returns how many changed."""
    now, done = _now(), 0
    sql = "UPDATE quarantine SET resolved_ms = ?, resolved_by = ? WHERE source_key = ? AND row_number = ? " \
          "AND resolved_ms IS NULL"
    if not row_numbers:
        return 0
    with store.transaction() as cur:
        for rn in row_numbers:
            cur.execute(store.sql(sql), (now, by, source_key, int(rn)))
            done += max(int(cur.rowcount), 0)
    return done


# -- runs ------------------------------------------------------------------------------------


def record_run(store: Store, source_key: str, source: str, fmt: str, started_ms: int, *,
               finished_ms: int | None = None, counts: Sequence[int] | None = None, frauds: int | None = None,
               quarantined_frauds: int | None = None, settings: dict[str, Any] | None = None,
               corrects: str | None = None, report: dict[str, Any] | None = None, cur: Any = None) -> None:
    """Create or overwrite the ``ingest_runs`` row of a source; ``counts`` = (read, accepted,
    quarantined, duplicates). A row whose ``finished_ms`` is null is a run that has not finished."""
    read, accepted, quarantined, duplicates = counts if counts is not None else (None, None, None, None)
    sql = store.upsert("ingest_runs", RUN_COLUMNS, ("source_key",))
    row = (source_key, source, fmt, started_ms, finished_ms, read, accepted, quarantined, duplicates, frauds,
           quarantined_frauds, json.dumps(settings, default=str) if settings is not None else None, corrects,
           json.dumps(report, default=str) if report is not None else None)
    if cur is not None:
        store.executemany_in(cur, sql, [row])
    else:
        store.executemany(sql, [row])


def load_runs(store: Store) -> pd.DataFrame:
    """Every ingest run, oldest first."""
    rows = store.query(f"SELECT {', '.join(RUN_COLUMNS)} FROM ingest_runs ORDER BY started_ms, source_key")
    return pd.DataFrame.from_records(rows, columns=list(RUN_COLUMNS))


def get_run(store: Store, source_key: str) -> dict[str, Any] | None:
    rows = store.query_dicts(f"SELECT {', '.join(RUN_COLUMNS)} FROM ingest_runs WHERE source_key = ?",
                             (source_key,))
    return rows[0] if rows else None


# -- label timing ----------------------------------------------------------------------------


def record_label_timing(store: Store, source_key: str, label_source: str, timing: str,
                        delay_ms: int | None, cur: Any = None) -> None:
    """How the known-at times of one run's labels of one source were set (see migration 0009)."""
    sql = store.upsert("label_timing", TIMING_COLUMNS, ("source_key", "label_source"))
    row = (source_key, label_source, timing, delay_ms, _now())
    if cur is not None:
        store.executemany_in(cur, sql, [row])
    else:
        store.executemany(sql, [row])


def load_label_timing(store: Store) -> pd.DataFrame:
    """Every label-timing record, with the file each came from."""
    cols = ("source_key", "label_source", "timing", "delay_ms", "updated_ms")
    rows = store.query(f"SELECT {', '.join('t.' + c for c in cols)}, r.source FROM label_timing t "
                       "LEFT JOIN ingest_runs r ON r.source_key = t.source_key ORDER BY t.updated_ms, t.source_key")
    return pd.DataFrame.from_records(rows, columns=[*cols, "file"])
