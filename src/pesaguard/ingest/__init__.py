"""Ingest: read transaction and label files, validate every row, store the good, quarantine the bad.

The library API is :func:`ingest_file` and :func:`ingest_labels`, both returning an
:class:`IngestReport`. The per-column validators in :mod:`pesaguard.ingest.validate` and
:func:`validate_transactions` work on in-memory tables, so the live API and the simulator validate
exactly as the file ingest does.
"""

from pesaguard.ingest.labels import ingest_labels
from pesaguard.ingest.models import IngestOptions, IngestReport, parse_map
from pesaguard.ingest.pipeline import ingest_file
from pesaguard.ingest.transactions import validate_transactions

__all__ = ["IngestOptions", "IngestReport", "ingest_file", "ingest_labels", "parse_map", "validate_transactions"]
