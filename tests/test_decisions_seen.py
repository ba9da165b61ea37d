"""The idempotency pre-check (``pesaguard.decisions.seen``): never a false "new", few false "seen",
loaded from the stored transactions at start-up, growing past its first size."""

from __future__ import annotations

from pesaguard.decisions.seen import SeenIds
from pesaguard.store import Store
from pesaguard.store import decision_log as repo

T0 = 1_717_200_000_000


def test_no_false_negatives_and_few_false_positives_as_it_grows() -> None:
    seen = SeenIds(capacity=2_000)
    added = [f"T{i}" for i in range(10_000)]  # five times its first size: two more filters (2k, 4k, 8k)
    seen.update(added)
    assert all(t in seen for t in added) and seen.count == 10_000 and len(seen._filters) == 3
    false = sum(f"N{i}" in seen for i in range(20_000))
    assert false / 20_000 < 3 * 0.005 * 1.5  # at most the sum of the filters' rates, with some slack


def test_loaded_from_the_stored_transactions(store: Store) -> None:
    features = {"amount": 1.0}
    rows = [{"decision_id": f"d_{i}", "txn_id": f"T{i:04d}", "request_hash": "h", "ts_ms": T0, "account_id": "C1",
             "amount_minor": 5, "action": "allow", "score": 0.1, "reasons": [], "rule_hits": [], "features": features,
             "model_version": "m", "policy_version": "p", "created_ms": T0} for i in range(250)]
    txns = [[r["txn_id"], T0, "C1", "M1", 5, "KES", "p2p"] + [None] * 8 for r in rows]
    repo.write_decisions(store, rows, txns)
    # and transactions with no decision (ingested from a file): a different payload for them is a conflict
    store.executemany("INSERT INTO transactions (txn_id, ts_ms, payer, payee, amount_minor) VALUES (?, ?, ?, ?, ?)",
                      [(f"F{i:04d}", T0, "C2", "M1", 7) for i in range(50)])
    assert sum(len(c) for c in repo.iter_known_txn_ids(store, chunk=100)) == 300
    seen = SeenIds.from_store(store)
    assert seen.count == 300 and all(f"T{i:04d}" in seen and f"F{i:04d}" in seen for i in range(50))
