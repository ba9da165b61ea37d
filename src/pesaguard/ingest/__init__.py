"""Ingest: read transaction and label files, validate every row, store the good, quarantine the bad.

The library API is :func:`ingest_file` and :func:`ingest_labels`, both returning an
:class:`IngestReport`; :func:`inspect_file` profiles a file without storing it;
:func:`quarantine_summary` says how much quarantine holds per file and whether it removed a larger
share of frauds than of rows; :func:`label_timing_records` says how each stored label source's
known-at times were set, and :func:`labels_known_at_transaction` which sources hold labels
asserted known at their transaction's time. The per-column validators in :mod:`pesaguard.ingest.validate` and
:func:`validate_transactions` work on in-memory tables, so the live API and the simulator validate
exactly as the file ingest does.
"""

from pesaguard.ingest.inspect import inspect_file
from pesaguard.ingest.labels import ingest_labels
from pesaguard.ingest.models import IngestOptions, IngestReport, parse_map
from pesaguard.ingest.pipeline import ingest_file
from pesaguard.ingest.quarantine import QuarantineSummary, quarantine_summary, quarantine_warning
from pesaguard.ingest.transactions import validate_transactions
from pesaguard.store import Store
from pesaguard.store.quarantine import load_label_timing as label_timing_records


def labels_known_at_transaction(store: Store) -> list[str]:
    """Label sources some of whose labels were stored as known at their transaction's time
    (``--labels-known-at-transaction``): label-based features would see those frauds at once."""
    records = label_timing_records(store)
    return sorted(set(records.loc[records["timing"] == "at_transaction", "label_source"]))


__all__ = ["IngestOptions", "IngestReport", "QuarantineSummary", "ingest_file", "ingest_labels", "inspect_file",
           "label_timing_records", "labels_known_at_transaction", "parse_map", "quarantine_summary",
           "quarantine_warning", "validate_transactions"]
