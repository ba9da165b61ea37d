"""``POST /v1/labels`` (analyst): ground truth for a transaction; it becomes training data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.schema import to_ms
from pesaguard.service.auth import Principal
from pesaguard.service.deps import get_store, labels_added, require_role
from pesaguard.store import Store, core
from pesaguard.store.decisions import now_ms

router = APIRouter(tags=["labels"])
Text = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00]*$")]


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    txn_id: Text
    label: Literal["fraud", "legitimate"]
    source: Text = "analyst"
    known_at: datetime | None = Field(default=None, description="when the truth became known (UTC if no "
                                      "offset is given); default now")
    typology: Annotated[str | None, Field(default=None, max_length=64, pattern=r"^[^\x00]*$")] = None


class LabelOut(BaseModel):
    label_id: str
    added: bool


@router.post("/v1/labels", response_model=LabelOut, status_code=201,
             summary="Record a label (idempotent: the same label twice is stored once)")
def add_label(body: LabelIn, request: Request, store: Store = Depends(get_store),
              _: Principal = Depends(require_role("analyst"))) -> dict[str, Any]:
    known = to_ms(body.known_at) if body.known_at is not None else now_ms()
    is_fraud = body.label == "fraud"
    df = pd.DataFrame({"txn_id": [body.txn_id], "is_fraud": [int(is_fraud)], "known_at_ms": [known],
                       "source": [body.source], "typology": [body.typology]})
    added = core.insert_labels(store, df)
    if added:
        labels_added(request, [(body.txn_id, is_fraud, known)])
    return {"label_id": core.label_id(body.txn_id, is_fraud, known, body.source), "added": added == 1}
