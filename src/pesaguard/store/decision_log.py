"""The decision log: decisions, with their transactions and the cases they open, written in one
transaction, and read back by id, by transaction or by time.

Every insert is keyed by a natural id (``txn_id`` for decisions), so a batch stored again after a
crash adds nothing twice. The row layout and its encoding are the decision codec's
(:mod:`pesaguard.store.decision_record`); feature vectors are stored compactly, values only, with a
layout id (:mod:`pesaguard.store.feature_layouts`), and every reader decodes them through it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.store import decision_record as record
from pesaguard.store.base import Store
from pesaguard.store.feature_layouts import decode_rows, insert_new_layouts, stored

DECISION_COLUMNS = record.DECISION_COLUMNS


def write_decisions(store: Store, decisions: Sequence[dict[str, Any]], transactions: Sequence[Sequence[Any]]) -> None:
    """Commit a batch of decisions, their transactions and case updates in one transaction.

    ``decisions`` are dicts as :func:`pesaguard.store.decision_record.record` takes them; ``transactions`` are rows in
    :data:`pesaguard.schema.TRANSACTION_COLUMNS` order. Idempotent: a decision whose ``txn_id`` is
    already stored is skipped, and so are its case updates.
    """
    rows = [record.decision_row(d) for d in decisions]
    with store.transaction() as cur:
        new_layouts = insert_decision_rows(store, cur, rows, transactions)
    stored(store, new_layouts)  # only once committed


def insert_decision_rows(store: Store, cur: Any, rows: Sequence[Sequence[Any]],
                         transactions: Sequence[Sequence[Any]]) -> set[str]:
    """Inside an open transaction: stored decision rows (:func:`pesaguard.store.decision_record.row`),
    their transactions and case updates, skipping decisions already stored. Returns the feature
    layouts it inserted, which the caller passes to :func:`pesaguard.store.feature_layouts.stored`
    once the transaction has committed."""
    new_layouts = insert_new_layouts(store, cur, {r[record.LAYOUT] for r in rows})
    store.executemany_in(cur, store.insert_ignore("transactions", TRANSACTION_COLUMNS, ("txn_id",)), transactions)
    insert = store.sql(store.insert_ignore("decisions", record.COLUMNS, ("txn_id",)))
    for row in rows:
        cur.execute(insert, row)
        if cur.rowcount == 1 and row[record.ACTION] != "allow":
            _open_or_update_case(store, cur, row)
    return new_layouts


def _open_or_update_case(store: Store, cur: Any, row: Sequence[Any]) -> None:
    """Inside the decision's own transaction: open a case for its account, or add the alert to the
    account's open case (at most one open case per account: a partial unique index)."""
    d = dict(zip(record.COLUMNS, row, strict=True))
    reasons = json.loads(d["reasons"])
    cur.execute(store.sql("SELECT case_id, max_score FROM cases WHERE account_id = ? AND status = 'open'"),
                (d["account_id"],))
    found = cur.fetchone()
    reason = reasons[0] if reasons else None
    if found is None:
        case_id = "c_" + d["decision_id"][2:]
        cur.execute(store.sql(
            "INSERT INTO cases (case_id, account_id, status, opened_ms, updated_ms, max_score, worst_action,"
            " top_reason, max_amount, n_alerts) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, 1)"),
            (case_id, d["account_id"], d["created_ms"], d["created_ms"], d["score"], d["action"], reason,
             d["amount_minor"]))
    else:
        case_id = found[0]
        cur.execute(store.sql(
            "UPDATE cases SET updated_ms = ?, n_alerts = n_alerts + 1,"
            " top_reason = CASE WHEN ? > max_score THEN ? ELSE top_reason END,"
            " max_score = CASE WHEN ? > max_score THEN ? ELSE max_score END,"
            " max_amount = CASE WHEN ? > max_amount THEN ? ELSE max_amount END,"
            " worst_action = CASE WHEN ? = 'block' THEN 'block' ELSE worst_action END WHERE case_id = ?"),
            (d["created_ms"], d["score"], reason, d["score"], d["score"], d["amount_minor"], d["amount_minor"],
             d["action"], case_id))
    cur.execute(store.sql(store.insert_ignore("case_decisions", ("case_id", "decision_id"),
                                              ("case_id", "decision_id"))), (case_id, d["decision_id"]))


def find_decision(store: Store, *, decision_id: str | None = None, txn_id: str | None = None) -> dict[str, Any] | None:
    """One stored decision by id or by transaction id (JSON columns decoded)."""
    col, value = ("decision_id", decision_id) if decision_id is not None else ("txn_id", txn_id)
    rows = store.query_dicts(f"SELECT {', '.join(record.COLUMNS)} FROM decisions WHERE {col} = ?", (value,))
    return record.decode_json(decode_rows(store, rows)[0], ("reasons", "rule_hits")) if rows else None


def decision_hash(store: Store, txn_id: str) -> str | None:
    """The stored decision's request hash for ``txn_id``, or None. This is the idempotency check
    made on every decision, so it runs straight on this thread's connection (sqlite3 caches the
    prepared statement) without :meth:`Store.query`'s general row handling."""
    with store.guard():
        row = store.conn.execute(store.sql("SELECT request_hash FROM decisions WHERE txn_id = ?"),
                                 (txn_id,)).fetchone()
    return None if row is None else str(row[0])


def transaction_row(store: Store, txn_id: str) -> tuple[Any, ...] | None:
    """The stored transaction ``txn_id`` in :data:`pesaguard.schema.TRANSACTION_COLUMNS` order, or None."""
    rows = store.query(f"SELECT {', '.join(TRANSACTION_COLUMNS)} FROM transactions WHERE txn_id = ?", (txn_id,))
    return rows[0] if rows else None


def iter_known_txn_ids(store: Store, chunk: int = 100_000) -> Iterator[list[str]]:
    """Every stored ``txn_id`` (a decided transaction is stored too), in chunks, in id order (keyset
    pages on the primary key: no cursor held open across chunks)."""
    last = ""
    while True:
        ids = [r[0] for r in store.query("SELECT txn_id FROM transactions WHERE txn_id > ? ORDER BY txn_id LIMIT ?",
                                         (last, chunk))]
        if not ids:
            return
        yield ids
        last = ids[-1]


def load_decisions(store: Store, start_ms: int | None = None, end_ms: int | None = None) -> list[dict[str, Any]]:
    """Decisions with transaction time in ``[start_ms, end_ms)``, joined with their transactions."""
    clauses, params = [], []
    if start_ms is not None:
        clauses.append("d.ts_ms >= ?")
        params.append(start_ms)
    if end_ms is not None:
        clauses.append("d.ts_ms < ?")
        params.append(end_ms)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    cols = ", ".join(f"t.{c}" for c in TRANSACTION_COLUMNS)
    rows = store.query_dicts(
        f"SELECT {cols}, d.decision_id, d.action, d.score, d.features, d.feature_layout, d.rule_hits FROM decisions d "
        f"JOIN transactions t ON t.txn_id = d.txn_id{where} ORDER BY d.ts_ms, d.txn_id", params)
    return [record.decode_json(r, ("rule_hits",)) for r in decode_rows(store, rows)]


def decided_actions(store: Store) -> list[tuple[Any, ...]]:
    """``(txn_id, action, score)`` of every stored decision, in ``txn_id`` order."""
    return store.query("SELECT txn_id, action, score FROM decisions ORDER BY txn_id")
