"""``GET /v1/decisions/{id}`` (analyst): a stored decision with its feature values."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from pesaguard.errors import NotFoundError
from pesaguard.service.auth import Principal
from pesaguard.service.deps import get_store, require_role
from pesaguard.store import Store
from pesaguard.store import decision_log as repo

router = APIRouter(tags=["decisions"])


class DecisionDetail(BaseModel):
    decision_id: str
    txn_id: str
    ts_ms: int
    account_id: str
    amount_minor: int
    action: str
    score: float
    reasons: list[str]
    rule_hits: list[dict[str, Any]]
    features: dict[str, Any]
    model_version: str
    policy_version: str
    created_ms: int


@router.get("/v1/decisions/{decision_id}", response_model=DecisionDetail, summary="One stored decision")
def get_decision(decision_id: str, store: Store = Depends(get_store),
                 _: Principal = Depends(require_role("analyst"))) -> Any:
    found = repo.find_decision(store, decision_id=decision_id)
    if found is None:
        raise NotFoundError(f"no decision with id {decision_id!r}", field="decision_id",
                            hint="use the decision_id returned by POST /v1/transactions")
    return found
