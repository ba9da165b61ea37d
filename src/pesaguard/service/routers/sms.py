"""``POST /v1/sms/check`` (scorer): is this SMS a scam, and does its money-received claim hold?"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.config import Settings
from pesaguard.decisions.decider import EventWindow
from pesaguard.schema import to_ms
from pesaguard.service.auth import Principal
from pesaguard.service.deps import get_settings_dep, get_store, require_role
from pesaguard.sms.shield import SmsCheckResult, get_shield, record
from pesaguard.store import Store

router = APIRouter(tags=["sms"])
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00]*$")]


class SmsCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00]*\S[^\x00]*$",
                               description="the SMS text as received (not empty or only spaces)")]
    sender: Id | None = Field(default=None, description="sender ID or number the SMS came from")
    to: Id | None = Field(default=None, description="recipient account id: enables the ledger check and storage")
    received_at: datetime | None = Field(default=None, description="when it arrived (UTC if no offset); default now")
    msg_id: Id | None = Field(default=None, description="your id for the message; default a salted hash")
    save: bool = Field(default=True, description="store the redacted message when `to` is given")


@router.post("/v1/sms/check", response_model=SmsCheckResult,
             summary="Check an SMS: verdict (scam, suspicious, genuine), category (scam, promotion, genuine), score, "
                     "scam type, reasons, operator notification format, ledger claim check")
def check_sms(body: SmsCheckIn, store: Store = Depends(get_store), settings: Settings = Depends(get_settings_dep),
              _: Principal = Depends(require_role("scorer"))) -> SmsCheckResult:
    received_ms = to_ms(body.received_at) if body.received_at is not None else None
    if received_ms is not None:  # a stored SMS dates a scam event of its account: the decisions' window
        EventWindow.from_settings(settings).check(received_ms, "received_at")
    shield = get_shield(settings)
    result = shield.check(body.text, sender=body.sender, to=body.to, received_ms=received_ms, store=store,
                          msg_id=body.msg_id)
    if body.to and body.save:
        record(store, shield, result, body.text, sender=body.sender, to=body.to, received_ms=received_ms)
    return result
