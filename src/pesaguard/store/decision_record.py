"""The decision record: the columns of a stored decision and their one encoding, shared by the
decision journal (one record per line, :mod:`pesaguard.decisions.journal`) and the store (one row
of ``decisions``, :mod:`pesaguard.store.decision_log`).

A decision is a dict with the keys :data:`DECISION_COLUMNS` (``reasons`` and ``rule_hits`` as
Python values, ``features`` a name -> value mapping in the scorer's fixed order). :func:`record`
makes it a list of JSON values in :data:`COLUMNS` order (the feature values alone, the layout id
last); :func:`row` makes a record the stored row (its JSON columns as text, NaN as null);
:func:`decode_json` reads a stored row's JSON columns back (feature vectors:
:func:`pesaguard.store.feature_layouts.decode_features`).

>>> d = {"decision_id": "d_1", "txn_id": "t1", "request_hash": "h", "ts_ms": 1, "account_id": "C1",
...      "amount_minor": 500, "action": "review", "score": 0.9, "reasons": ["big"], "rule_hits": [],
...      "features": {"amount": 500.0, "hour": float("nan")}, "model_version": "m1", "policy_version": "p1",
...      "created_ms": 2}
>>> row(record(d))[8:11]
('["big"]', '[]', '[500.0,null]')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from pesaguard.store.feature_layouts import feature_layout

#: The stored columns of a decision, in the order of a record and of a row.
COLUMNS = ("decision_id", "txn_id", "request_hash", "ts_ms", "account_id", "amount_minor", "action", "score",
           "reasons", "rule_hits", "features", "model_version", "policy_version", "created_ms", "feature_layout")
#: The keys of a decision dict (every column but the layout, which the features imply).
DECISION_COLUMNS = COLUMNS[:-1]
ACTION, REASONS, RULE_HITS, FEATURES, LAYOUT = (COLUMNS.index(c) for c in
                                                ("action", "reasons", "rule_hits", "features", "feature_layout"))
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _fallback(v: Any) -> Any:
    """orjson's fallback for values that are not JSON types (numpy scalars, say): floats or text."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def dumps(value: Any) -> bytes:
    """The record's JSON: compact, key order as produced, NaN as null (JSON lacks it), numpy values
    as numbers. orjson rather than ``json``: this runs for every decision, a tenth of the cost."""
    return orjson.dumps(value, default=_fallback, option=_OPTIONS)


def record(d: Mapping[str, Any]) -> list[Any]:
    """The decision as JSON values in :data:`COLUMNS` order."""
    features = d["features"]
    return [d["decision_id"], d["txn_id"], d["request_hash"], d["ts_ms"], d["account_id"], d["amount_minor"],
            d["action"], d["score"], d["reasons"], d["rule_hits"], list(features.values()), d["model_version"],
            d["policy_version"], d["created_ms"], feature_layout(tuple(features))[0]]


def row(rec: Sequence[Any]) -> tuple[Any, ...]:
    """A record as the stored row: the JSON columns (reasons, rule hits, feature values) as text."""
    return (*rec[:REASONS], dumps(rec[REASONS]).decode(), dumps(rec[RULE_HITS]).decode(),
            dumps(rec[FEATURES]).decode(), *rec[FEATURES + 1:])


def decision_row(d: Mapping[str, Any]) -> tuple[Any, ...]:
    """A decision dict as the stored row."""
    return row(record(d))


def decode_json(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Parse, in place, the JSON text of ``keys`` in a stored row read as a dict."""
    for k in keys:
        if isinstance(row.get(k), str):
            row[k] = json.loads(row[k])
    return row
