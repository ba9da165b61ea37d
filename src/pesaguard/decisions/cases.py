"""Cases: a review or block opens (or updates) the account's open case; analysts assign, comment
and resolve it with a label, and the label goes into the store as training data.

Opening and updating happen in the decision's own commit (:mod:`pesaguard.store.decision_log`);
this module holds the analyst actions and their rules.
"""

from __future__ import annotations

from typing import Any

from pesaguard.errors import ConflictError, NotFoundError
from pesaguard.store import Store
from pesaguard.store import cases as repo


def get(store: Store, case_id: str, timeline_limit: int = 200) -> dict[str, Any]:
    """A case with its decisions, events and the account's timeline; NotFoundError if absent."""
    case = repo.get_case(store, case_id)
    if case is None:
        raise NotFoundError(f"no case with id {case_id!r}", field="case_id", hint="list cases with GET /v1/cases")
    case["timeline"] = repo.account_timeline(store, case["account_id"], timeline_limit)
    return case


def assign(store: Store, case_id: str, assignee: str | None, actor: str) -> dict[str, Any]:
    if repo.assign_case(store, case_id, assignee, actor) == 0:
        get(store, case_id)  # raises NotFoundError
    return get(store, case_id)


def comment(store: Store, case_id: str, text: str, actor: str) -> dict[str, Any]:
    get(store, case_id)
    repo.add_event(store, case_id, actor, "comment", text)
    return get(store, case_id)


def resolve(store: Store, case_id: str, label: str, actor: str, note: str | None = None) -> dict[str, Any]:
    """Resolve an open case as ``fraud`` or ``legitimate``; labels every flagged transaction in it."""
    case = get(store, case_id)
    if case["status"] != "open":
        raise ConflictError(f"case {case_id!r} is already resolved as {case['resolution']}",
                            field="case_id", hint="a new alert on the account opens a new case")
    added = repo.resolve_case(store, case_id, label == "fraud", actor, note)
    if added == 0 and repo.get_case(store, case_id)["status"] == "open":  # type: ignore[index]
        raise ConflictError(f"case {case_id!r} changed while resolving", hint="reload and retry")
    return get(store, case_id)


def resolution_labels(case: dict[str, Any]) -> list[tuple[str, bool, int]]:
    """The labels a resolved case added: (txn_id, is_fraud, known_at_ms) per flagged transaction."""
    if case["status"] != "resolved":
        return []
    return [(d["txn_id"], case["resolution"] == "fraud", case["resolved_ms"]) for d in case["decisions"]]
