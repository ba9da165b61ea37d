"""``ingest_labels``: label files that arrive after the transactions (chargebacks, victim reports).

Columns (``--map`` keys): ``txn_id`` and ``label`` (1/0/true/false/fraud/legit/legitimate/yes/no) are
required; ``known_at`` (when the label became known), ``source`` and ``typology`` are optional.
Without a known_at column every label is known at ``options.known_at`` or else at the file's
modification time, which keeps a re-ingest of the same file idempotent.

A label whose transaction is not in the store is stored all the same (labels may arrive first)
and counted as ``unmatched``: the number of valid labels in the file whose transaction id the
store does not hold when the row is written. Rows are counted and quarantined as in
:func:`~pesaguard.ingest.pipeline.ingest_file`; a label is a duplicate when the same label event
(transaction, value, known_at, source) is already stored or came earlier in the file.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pesaguard.errors import InputError
from pesaguard.ingest.batches import Progress, quarantine_rows
from pesaguard.ingest.models import LABEL_MAP_OPTIONAL, LABEL_MAP_REQUIRED, IngestOptions, IngestReport
from pesaguard.ingest.pipeline import _finish, _now_ms, run_key
from pesaguard.ingest.readers import Source
from pesaguard.ingest.transactions import Parsed
from pesaguard.ingest.validate import Checked, merge_errors, parse_label, parse_text, parse_time
from pesaguard.schema import to_ms
from pesaguard.store import Store, core
from pesaguard.store import quarantine as qstore

_DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "txn_id": ("txn_id", "id", "transaction_id"),
    "label": ("label", "is_fraud", "isFraud"),
    "known_at": ("known_at", "known_at_ms", "reported_at"),
    "source": ("source",),
    "typology": ("typology",),
}


def ingest_labels(store: Store, path: str | Path, column_map: Mapping[str, str] | None = None,
                  options: IngestOptions | None = None, progress: Progress | None = None) -> IngestReport:
    """Ingest a CSV, ``.csv.gz`` or Parquet file of labels; returns what happened."""
    started = time.perf_counter()
    options = options or IngestOptions()
    src = Source(path, encoding=options.encoding, delimiter=options.delimiter)
    mapping = resolve_label_map(src, column_map)
    content = src.content_sha256()
    key = run_key(content, "labels", mapping, options)
    default_known = to_ms(options.known_at) if options.known_at else int(src.path.stat().st_mtime * 1000)
    default_source = options.label_source or "file"
    report = IngestReport(source=str(src.path), source_key=key, format="labels", unmatched=0, file=src.describe())
    report.label_timing = ("known at column " + repr(mapping["known_at"])) if "known_at" in mapping else \
        "known at one time for the file (--known-at, or the file's modification time)"
    settings = {"format": "labels", "map": mapping, "options": options.model_dump(mode="json"),
                "content_sha256": content}
    started_ms = _now_ms()
    qstore.record_run(store, key, str(src.path), "labels", started_ms, settings=settings)
    reasons: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    sources_seen: set[str] = set()
    seen: dict[tuple[str, int], int] = {}  # (txn_id, known_at) -> label, over the whole file

    for chunk in src.chunks(options.chunk_rows, list(dict.fromkeys(mapping.values()))):
        table, m = chunk.table, mapping
        txn = parse_text(table[m["txn_id"]], m["txn_id"])
        label = parse_label(table[m["label"]], m["label"], required=True)
        checks: list[tuple[str, Checked]] = [(m["txn_id"], txn), (m["label"], label)]
        known = source = typology = None
        if "known_at" in m:
            known = parse_time(table[m["known_at"]], m["known_at"], unit=options.time_unit, required=False,
                               time_format=options.time_format, tz=options.tz)
            checks.append((m["known_at"], known))
        if "source" in m:
            source = parse_text(table[m["source"]], m["source"], required=False)
            checks.append((m["source"], source))
        if "typology" in m:
            typology = parse_text(table[m["typology"]], m["typology"], required=False)
            checks.append((m["typology"], typology))
        parsed = Parsed(table.num_rows, {}, merge_errors(checks))
        parsed.errors.update(_contradictions(store, parsed, txn, label, known, default_known, m["label"], seen))
        keep = pa.array(parsed.valid)
        ids = txn.values.filter(keep).to_pylist()
        flags = label.values.filter(keep).to_pylist()
        knowns = known.values.filter(keep).to_pylist() if known else itertools.repeat(None)
        sources = source.values.filter(keep).to_pylist() if source else itertools.repeat(None)
        typologies = typology.values.filter(keep).to_pylist() if typology else itertools.repeat(None)
        rows: list[tuple[Any, ...]] = []
        for t, f, k, s, ty in zip(ids, flags, knowns, sources, typologies, strict=False):
            at = default_known if k is None else k
            src_name = s or default_source
            sources_seen.add(src_name)
            rows.append((core.label_id(t, bool(f), at, src_name), t, int(f), at, src_name, ty))
        quarantine = quarantine_rows(chunk, parsed)
        with store.transaction() as cur:
            new = core.insert_rows(store, "labels", core.LABEL_COLUMNS, ("label_id",), rows, cur)
            if quarantine:
                qstore.insert_quarantine(store, key, src.path.name, quarantine, cur)
        known_ids = core.existing_txn_ids(store, list(set(ids)))
        assert report.unmatched is not None
        report.unmatched += int(np.sum([t not in known_ids for t in ids]))
        report.read += chunk.read
        report.accepted += new
        report.labels += new
        report.duplicates += len(rows) - new
        report.quarantined += len(quarantine)
        reasons.update(q[1] for q in quarantine)
        rules.update(q[5] for q in quarantine)
        if progress is not None:
            progress(chunk.read)
    report.top_reasons = dict(reasons.most_common(10))
    report.reasons = dict(rules.most_common())
    report.notes = src.notes()
    timing = "column" if "known_at" in mapping else "fixed"
    for name in sorted(sources_seen):
        qstore.record_label_timing(store, key, name, timing, None)
    _finish(store, report, started, started_ms, settings, None)
    return report


def _contradictions(store: Store, parsed: Parsed, txn: Checked, label: Checked, known: Checked | None,
                    default_known: int, label_column: str, seen: dict[tuple[str, int], int]) -> dict[int, tuple[str, str]]:
    """Rows whose label contradicts one given for the same transaction at the same known_at, earlier in
    the file or already stored (the API answers such a label 409): which one is right cannot be told,
    so the later one is quarantined, never stored beside the first."""
    valid = np.flatnonzero(parsed.valid).tolist()
    ids = txn.values.to_pylist()
    flags = label.values.to_pylist()
    knowns = known.values.to_pylist() if known is not None else [None] * len(ids)
    stored = core.stored_labels(store, [ids[i] for i in valid])
    out: dict[int, tuple[str, str]] = {}
    for i in valid:
        k = knowns[i]
        at = default_known if k is None else int(k)
        key, value = (ids[i], at), int(bool(flags[i]))
        earlier = seen.setdefault(key, value)
        if earlier != value or (stored.get(key, set()) - {value}):
            out[i] = (label_column, f"label {value} contradicts label {1 - value} given for transaction {ids[i]!r} "
                                    "known at the same time (one label per transaction and known_at: fix the file, "
                                    "or give the correction a later known_at)")
    return out


def resolve_label_map(src: Source, column_map: Mapping[str, str] | None) -> dict[str, str]:
    """The complete label column map: given keys, then columns named like a key."""
    mapping = src.complete_map(column_map, _DEFAULT_NAMES)
    available = ", ".join(src.columns)
    missing = [k for k in LABEL_MAP_REQUIRED if k not in mapping]
    if missing:
        raise InputError(f"the label file has no column for {', '.join(missing)}", file=src.path, field=missing[0],
                         hint=f"map it with --map txn_id=COL,label=COL; the file's columns are: {available}")
    for k, col in mapping.items():
        if k not in LABEL_MAP_REQUIRED + LABEL_MAP_OPTIONAL:
            continue
        if col not in src.columns:
            raise InputError(f"column {col!r} (--map {k}={col}) is not in the file", file=src.path, field=col,
                             hint=f"the file's columns are: {available}")
    return mapping
