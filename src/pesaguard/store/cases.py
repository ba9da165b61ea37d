"""Repository for cases: the alert queue, a case's timeline, analyst actions, dashboard figures.

Cases are opened and updated in the same transaction as the decision that raised them
(:func:`pesaguard.store.decision_log.insert_decision_rows`); analysts change them through the
functions here.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from pesaguard.store import core, decision_record
from pesaguard.store.base import Store, now_ms
from pesaguard.store.feature_layouts import decode_rows

CASE_COLUMNS = ("case_id", "account_id", "status", "assignee", "opened_ms", "updated_ms", "resolved_ms",
                "resolution", "max_score", "worst_action", "top_reason", "max_amount", "n_alerts")
SORTS = {"score": "max_score", "amount": "max_amount", "age": "opened_ms", "updated": "updated_ms",
         "alerts": "n_alerts"}


def list_cases(store: Store, *, status: str | None = "open", sort: str = "score", descending: bool = True,
               reason: str | None = None, min_score: float | None = None, assignee: str | None = None,
               limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The alert queue. ``sort`` is a key of :data:`SORTS`; ``reason`` matches a substring, literally."""
    clauses: list[str] = []
    params: list[Any] = []
    if status:
        clauses.append("status = ?")
        params.append(status)
    if reason:
        # the text is matched literally: % and _ (LIKE's wildcards) and the escape itself are escaped
        clauses.append("LOWER(top_reason) LIKE ? ESCAPE '!'")
        literal = reason.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
        params.append(f"%{literal}%")
    if min_score is not None:
        clauses.append("max_score >= ?")
        params.append(min_score)
    if assignee:
        clauses.append("assignee = ?")
        params.append(assignee)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    order = f"{SORTS[sort]} {'DESC' if descending else 'ASC'}, case_id"
    return store.query_dicts(f"SELECT {', '.join(CASE_COLUMNS)} FROM cases{where} ORDER BY {order} LIMIT ? OFFSET ?",
                             [*params, limit, offset])


def count_cases(store: Store, status: str = "open") -> int:
    return int(store.scalar("SELECT COUNT(*) FROM cases WHERE status = ?", (status,)) or 0)


def get_case(store: Store, case_id: str) -> dict[str, Any] | None:
    """A case with its decisions (newest first) and its events (comments, assignments, resolution)."""
    rows = store.query_dicts(f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE case_id = ?", (case_id,))
    if not rows:
        return None
    case = rows[0]
    decisions = store.query_dicts(
        "SELECT d.decision_id, d.txn_id, d.ts_ms, d.amount_minor, d.action, d.score, d.reasons, d.rule_hits,"
        " d.features, d.feature_layout, d.model_version FROM decisions d JOIN case_decisions cd"
        " ON cd.decision_id = d.decision_id WHERE cd.case_id = ? ORDER BY d.ts_ms DESC, d.txn_id", (case_id,))
    case["decisions"] = [decision_record.decode_json(d, ("reasons", "rule_hits")) for d in decode_rows(store, decisions)]
    case["events"] = store.query_dicts(
        "SELECT ts_ms, actor, kind, body FROM case_events WHERE case_id = ? ORDER BY ts_ms, id", (case_id,))
    return case


def account_timeline(store: Store, account_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The account's transactions (either side, with any decision) and SMS, newest first."""
    txns = store.query_dicts(
        "SELECT t.txn_id, t.ts_ms, t.payer, t.payee, t.amount_minor, t.currency, t.type, t.channel, t.device_id,"
        " d.action, d.score FROM transactions t LEFT JOIN decisions d ON d.txn_id = t.txn_id"
        " WHERE t.payer = ? OR t.payee = ? ORDER BY t.ts_ms DESC LIMIT ?", (account_id, account_id, limit))
    sms = store.query_dicts(
        "SELECT msg_id, ts_ms, sender, text_redacted, verdict, score, category FROM sms_messages WHERE recipient = ?"
        " ORDER BY ts_ms DESC LIMIT ?", (account_id, limit))
    items = [{"kind": "txn", **t} for t in txns] + [{"kind": "sms", **s} for s in sms]
    items.sort(key=lambda i: i["ts_ms"], reverse=True)
    return items[:limit]


def add_event(store: Store, case_id: str, actor: str, kind: str, body: str | None, cur: Any = None) -> None:
    sql = "INSERT INTO case_events (case_id, ts_ms, actor, kind, body) VALUES (?, ?, ?, ?, ?)"
    if cur is not None:
        cur.execute(store.sql(sql), (case_id, now_ms(), actor, kind, body))
    else:
        store.execute(sql, (case_id, now_ms(), actor, kind, body))


def assign_case(store: Store, case_id: str, assignee: str | None, actor: str) -> int:
    with store.transaction() as cur:
        cur.execute(store.sql("UPDATE cases SET assignee = ?, updated_ms = ? WHERE case_id = ?"),
                    (assignee, now_ms(), case_id))
        changed = int(cur.rowcount)
        if changed:
            add_event(store, case_id, actor, "assign", assignee, cur)
        return changed


def resolve_case(store: Store, case_id: str, is_fraud: bool, actor: str, note: str | None = None,
                 known_at_ms: int | None = None) -> int:
    """Close an open case with a label; every flagged transaction in it gets that label (source
    ``analyst``) in the same transaction. Returns the number of labels added (0 if already resolved)."""
    known = known_at_ms if known_at_ms is not None else now_ms()
    resolution = "fraud" if is_fraud else "legitimate"
    with store.transaction() as cur:
        cur.execute(store.sql("UPDATE cases SET status = 'resolved', resolution = ?, resolved_ms = ?, updated_ms = ?"
                              " WHERE case_id = ? AND status = 'open'"), (resolution, known, known, case_id))
        if cur.rowcount != 1:
            return 0
        cur.execute(store.sql("SELECT d.txn_id FROM decisions d JOIN case_decisions cd ON cd.decision_id ="
                              " d.decision_id WHERE cd.case_id = ?"), (case_id,))
        txn_ids = [r[0] for r in cur.fetchall()]
        add_event(store, case_id, actor, "resolve", json.dumps({"label": resolution, "note": note}), cur)
        labels = pd.DataFrame({"txn_id": txn_ids, "is_fraud": [int(is_fraud)] * len(txn_ids),
                               "known_at_ms": [known] * len(txn_ids), "source": ["analyst"] * len(txn_ids)})
        return core.insert_labels(store, labels, cur) if txn_ids else 0


# -- dashboard --------------------------------------------------------------------------------


def alerts_per_day(store: Store, days: int = 30) -> list[tuple[int, str, int]]:
    """(day start ms, action, count) for review and block decisions over the last ``days`` days."""
    since = now_ms() - days * 86_400_000
    rows = store.query("SELECT (created_ms / 86400000) * 86400000 AS day, action, COUNT(*) FROM decisions"
                       " WHERE action <> 'allow' AND created_ms >= ? GROUP BY day, action ORDER BY day",
                       (since,))
    return [(int(d), str(a), int(n)) for d, a, n in rows]


def review_outcomes(store: Store) -> dict[str, int]:
    """Resolved cases by resolution: the precision of what was sent to review."""
    return {str(r): int(n) for r, n in store.query(
        "SELECT resolution, COUNT(*) FROM cases WHERE status = 'resolved' GROUP BY resolution")}


def recent_scores(store: Store, limit: int = 20_000) -> list[tuple[float, str]]:
    return [(float(s), str(a)) for s, a in store.query(
        "SELECT score, action FROM decisions ORDER BY created_ms DESC LIMIT ?", (limit,))]


def recent_reasons(store: Store, limit: int = 5_000) -> list[list[str]]:
    return [json.loads(r[0]) for r in store.query(
        "SELECT reasons FROM decisions WHERE action <> 'allow' ORDER BY created_ms DESC LIMIT ?", (limit,))]
