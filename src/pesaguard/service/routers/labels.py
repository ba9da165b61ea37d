"""``POST /v1/labels`` (analyst): ground truth for a transaction; it becomes training data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.decisions.decider import EventWindow
from pesaguard.errors import ConflictError, InputError
from pesaguard.schema import to_ms
from pesaguard.service.auth import Principal
from pesaguard.service.deps import get_store, labels_added, require_role
from pesaguard.service.types import Clean
from pesaguard.store import Store, core
from pesaguard.store.base import now_ms
from pesaguard.store.core import label_conflicts

router = APIRouter(tags=["labels"])
Text = Annotated[str, Field(min_length=1, max_length=128), Clean]


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    txn_id: Text
    label: Literal["fraud", "legitimate"]
    source: Text = "analyst"
    known_at: datetime | None = Field(default=None, description="when the truth became known (UTC if no "
                                      "offset is given); default now")
    typology: Annotated[str | None, Field(default=None, max_length=64), Clean] = None


class LabelOut(BaseModel):
    label_id: str
    added: bool


@router.post("/v1/labels", response_model=LabelOut, status_code=201,
             summary="Record a label (idempotent: the same label twice is stored once)",
             responses={409: {"description": "the opposite label for the same transaction and time"},
                        422: {"description": "invalid fields, or known_at outside the accepted window"},
                        503: {"description": "stored, but not yet published to the stream consumer replicas "
                                             "(PESAGUARD_NATS_URL set): send it again"}})
def add_label(body: LabelIn, request: Request, store: Store = Depends(get_store),
              _: Principal = Depends(require_role("analyst"))) -> dict[str, Any]:
    try:
        known = to_ms(body.known_at) if body.known_at is not None else now_ms()
    except (OverflowError, ValueError) as exc:
        raise InputError(f"known_at cannot be read as a time: {exc}", field="known_at") from exc
    EventWindow.from_settings(request.app.state.settings).check(known, "known_at")
    is_fraud = body.label == "fraud"
    if label_conflicts(store, body.txn_id, is_fraud, known):
        raise ConflictError(f"transaction {body.txn_id!r} already has the opposite label known at the same time",
                            field="label", hint="a correction is a new label with a later known_at")
    df = pd.DataFrame({"txn_id": [body.txn_id], "is_fraud": [int(is_fraud)], "known_at_ms": [known],
                       "source": [body.source], "typology": [body.typology]})
    added = core.insert_labels(store, df)
    # beside stream replicas, published even when already stored: a retry after a failed publish
    labels_added(request, [(body.txn_id, is_fraud, known)], source=body.source, typology=body.typology,
                 stored=added == 1)
    return {"label_id": core.label_id(body.txn_id, is_fraud, known, body.source), "added": added == 1}
