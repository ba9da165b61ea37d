"""The decision log's storage (both dialects): compact feature vectors, rows from before migration
0007, and every reader of ``decisions.features`` (lookup, history, case page, monitoring)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import pesaguard.store.base as base
from pesaguard.errors import StoreError
from pesaguard.store import Store
from pesaguard.store import cases as case_repo
from pesaguard.store import decision_log as repo
from pesaguard.store.monitoring import load_prediction_log

T0 = 1_717_200_000_000


def _decision(txn_id: str, features: dict[str, Any], action: str = "allow") -> tuple[dict[str, Any], list[Any]]:
    d = {"decision_id": f"d_{txn_id}", "txn_id": txn_id, "request_hash": "h", "ts_ms": T0, "account_id": "C1",
         "amount_minor": 500, "action": action, "score": 0.9 if action != "allow" else 0.1,
         "reasons": ["large amount"], "rule_hits": [], "features": features, "model_version": "m1",
         "policy_version": "p1", "created_ms": T0}
    txn = [txn_id, T0, "C1", "M1", 500, "KES", "p2p"] + [None] * 8
    return d, txn


def _write(store: Store, *items: tuple[dict[str, Any], list[Any]]) -> None:
    repo.write_decisions(store, [d for d, _ in items], [t for _, t in items])


def test_features_are_stored_compactly_and_read_back_by_every_reader(store: Store) -> None:
    feats = {"amount": 500.0, "payer_count_1h": 2.0, "payer_std_1h": math.nan}
    _write(store, _decision("t1", feats, "review"))
    _write(store, _decision("t2", {**feats, "amount": 7.5}))
    raw, layout = store.query("SELECT features, feature_layout FROM decisions WHERE txn_id = 't1'")[0]
    assert json.loads(raw) == [500.0, 2.0, None] and layout is not None  # values only, NaN as null
    assert store.query("SELECT layout_id, names FROM feature_layouts") == [(layout, json.dumps(list(feats),
                                                                                                separators=(",", ":")))]
    want = {"amount": 500.0, "payer_count_1h": 2.0, "payer_std_1h": None}
    assert repo.find_decision(store, txn_id="t1")["features"] == want  # type: ignore[index]
    assert [d["features"]["amount"] for d in repo.load_decisions(store)] == [500.0, 7.5]
    case_id = store.scalar("SELECT case_id FROM cases")
    assert case_repo.get_case(store, case_id)["decisions"][0]["features"] == want  # type: ignore[index]
    assert load_prediction_log(store)["features"].iloc[0] == want


def test_a_store_from_before_the_compact_log_stays_readable(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    every = base._migrations()
    monkeypatch.setattr(base, "_migrations", lambda: [m for m in every if m[0] < 7])
    store = Store(store_url)
    try:
        store.migrate()
        cols = ", ".join(repo.DECISION_COLUMNS)
        old = {"amount": 500.0, "payer_std_1h": None}
        store.execute(f"INSERT INTO decisions ({cols}) VALUES ({', '.join('?' for _ in repo.DECISION_COLUMNS)})",
                      ("d_old", "t_old", "h", T0, "C1", 500, "block", 0.99, '["r"]', "[]", json.dumps(old),
                       "m0", "p0", T0))
        store.execute("INSERT INTO transactions (txn_id, ts_ms, payer, payee, amount_minor) VALUES (?, ?, ?, ?, ?)",
                      ("t_old", T0, "C1", "M1", 500))
        monkeypatch.setattr(base, "_migrations", lambda: every)
        assert store.migrate() >= 7
        _write(store, _decision("t_new", {"amount": 9.0, "payer_std_1h": 1.0}))
        got = {d["txn_id"]: d["features"] for d in repo.load_decisions(store)}
        assert got == {"t_old": old, "t_new": {"amount": 9.0, "payer_std_1h": 1.0}}
        assert repo.find_decision(store, decision_id="d_old")["features"] == old  # type: ignore[index]
        assert list(load_prediction_log(store).sort_values("txn_id")["features"]) == [got["t_new"], old]
    finally:
        store.close()


def test_alert_queries_and_idempotency_hold_without_the_dropped_indexes(store: Store) -> None:
    _write(store, _decision("t1", {"a": 1.0}, "block"), _decision("t2", {"a": 2.0}))
    _write(store, _decision("t1", {"a": 1.0}, "block"))  # replayed after a crash: nothing twice
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 2
    assert store.scalar("SELECT n_alerts FROM cases") == 1
    assert [a for _, a, _ in case_repo.alerts_per_day(store, days=100_000)] == ["block"]
    assert case_repo.recent_reasons(store) == [["large amount"]]


def test_a_missing_layout_is_a_clear_store_error(store: Store) -> None:
    _write(store, _decision("t1", {"a": 1.0, "b": 2.0}))
    store.execute("UPDATE decisions SET feature_layout = 'fl_unknown'")
    with pytest.raises(StoreError, match="fl_unknown"):
        repo.find_decision(store, txn_id="t1")


def test_one_codec_makes_the_journal_record_and_the_stored_row() -> None:
    """A record written to the journal as JSON and read back gives the row the store writes directly,
    and the row decodes to the decision (NaN as None)."""
    import numpy as np
    import orjson

    from pesaguard.store import decision_record as codec
    from pesaguard.store.feature_layouts import feature_layout, vectors

    feats = {"amount": np.float64(500.0), "payer_count_1h": 2, "payer_std_1h": math.nan}
    d, _ = _decision("t9", feats, "block")
    d["rule_hits"] = [{"rule": "r1", "action": "block", "matched": [{"condition": "x > 1", "value": 2.5}]}]
    through_journal = orjson.loads(codec.dumps(codec.record(d)))
    assert codec.row(through_journal) == codec.decision_row(d)
    row = dict(zip(codec.COLUMNS, codec.decision_row(d), strict=True))
    layout = row["feature_layout"]
    assert layout == feature_layout(tuple(feats))[0]
    assert vectors([(row["features"], layout)], {layout: tuple(feats)}) == [
        {"amount": 500.0, "payer_count_1h": 2, "payer_std_1h": None}]
    assert codec.decode_json(row, ("reasons", "rule_hits"))["rule_hits"] == d["rule_hits"]
    assert {c: row[c] for c in codec.DECISION_COLUMNS if c not in ("features",)} == {
        c: d[c] for c in codec.DECISION_COLUMNS if c not in ("features",)}
