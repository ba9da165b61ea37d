"""The ``feature_layouts`` table: the names of a stored feature vector, once per layout.

A decision stores its feature values as a JSON array and names its layout; the layout id is a hash
of the names in order, so it is the same in every store and never stale. Why not a JSON object per
decision: the names took two thirds of each row (``docs/architecture.md``, "The decision log").
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from pesaguard.errors import StoreError
from pesaguard.store.base import Store, now_ms

_LAYOUT_IDS: dict[tuple[str, ...], tuple[str, str]] = {}  # names -> (layout id, names as JSON)
_LAYOUT_NAMES: dict[str, tuple[str, ...]] = {}  # layout id -> names; ids are content hashes, never stale
_STORED_LAYOUTS: weakref.WeakKeyDictionary[Store, set[str]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def feature_layout(names: tuple[str, ...]) -> tuple[str, str]:
    """``(layout id, names as JSON)`` of a feature vector's names in order.

    >>> feature_layout(("amount", "hour"))[0]
    'fl_b3741c114005a5a0'
    """
    found = _LAYOUT_IDS.get(names)
    if found is None:
        text = orjson.dumps(list(names)).decode()
        found = ("fl_" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), text)
        with _LOCK:
            _LAYOUT_IDS[names] = found
            _LAYOUT_NAMES[found[0]] = names
    return found


def layout_names(store: Store, layout_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``layout id -> names`` for the ids known here or in ``store`` (unknown ids are left out)."""
    wanted = set(layout_ids)
    missing = [i for i in wanted if i not in _LAYOUT_NAMES]
    if missing:
        marks = ",".join("?" for _ in missing)
        for layout_id, names in store.query(f"SELECT layout_id, names FROM feature_layouts WHERE layout_id IN ({marks})",
                                            missing):
            with _LOCK:
                _LAYOUT_NAMES[layout_id] = tuple(json.loads(names))
    return {i: _LAYOUT_NAMES[i] for i in wanted if i in _LAYOUT_NAMES}


def insert_new_layouts(store: Store, cur: Any, layout_ids: set[str]) -> set[str]:
    """Inside the open transaction ``cur``: insert the layouts this store may not hold yet; returns
    them, for :func:`stored` once the transaction has committed."""
    known = _STORED_LAYOUTS.setdefault(store, set())
    new = layout_ids - known
    for layout_id in new:
        names = _LAYOUT_NAMES[layout_id]
        cur.execute(store.sql(store.insert_ignore("feature_layouts", ("layout_id", "names", "created_ms"),
                                                  ("layout_id",))),
                    (layout_id, feature_layout(names)[1], now_ms()))
    return new


def stored(store: Store, layout_ids: set[str]) -> None:
    """Remember that ``store`` holds these layouts (call after the inserting transaction committed)."""
    _STORED_LAYOUTS.setdefault(store, set()).update(layout_ids)


def vectors(stored: Sequence[tuple[Any, str | None]], layouts: Mapping[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """Feature dicts from stored ``(features, feature_layout)`` pairs, in order; ``layouts`` names
    every layout they use (:func:`layout_names`).

    ``features`` is a JSON array of values with a layout id, or (rows written before migration 0007,
    ``feature_layout`` NULL) a JSON object; a missing vector decodes to ``{}``.
    """
    out: list[dict[str, Any]] = []
    for text, layout_id in stored:
        value = json.loads(text) if isinstance(text, str | bytes) else text
        if layout_id is None:
            out.append(dict(value or {}))
            continue
        names = layouts.get(layout_id)
        if names is None or len(names) != len(value):
            raise StoreError(f"decision feature layout {layout_id!r} is missing or does not match its values "
                             f"({len(value)} values)", hint="restore the feature_layouts table from a backup")
        out.append(dict(zip(names, value, strict=True)))
    return out


def decode_features(store: Store, stored: Sequence[tuple[Any, str | None]]) -> list[dict[str, Any]]:
    """Feature dicts from stored ``(features, feature_layout)`` pairs, in order (:func:`vectors` with
    the layouts of ``store``)."""
    return vectors(stored, layout_names(store, {lay for _, lay in stored if lay is not None}))


def decode_rows(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decode the ``features`` (+ ``feature_layout``, removed) of query rows in place."""
    feats = decode_features(store, [(r["features"], r.pop("feature_layout")) for r in rows])
    for r, f in zip(rows, feats, strict=True):
        r["features"] = f
    return rows
