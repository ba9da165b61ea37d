"""``POST /v1/assistant/ask`` (cited answers or a hand-off) and ``POST /v1/messages/triage``
(urgency and sentiment of a customer message; urgent ones open a case)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.assistant import Answer, TriageResult, get_assistant, triage
from pesaguard.config import Settings
from pesaguard.errors import ForbiddenError, UsageError
from pesaguard.schema import to_ms
from pesaguard.service.auth import Principal
from pesaguard.service.deps import get_settings_dep, get_store, require_role
from pesaguard.store import Store

router = APIRouter(tags=["assistant"])
NoNul = r"^[^\x00]*$"


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Annotated[str, Field(min_length=1, max_length=2000, pattern=NoNul)]
    lang: Literal["auto", "en", "sw"] = "auto"
    audience: Literal["customer", "analyst"] = "customer"
    sms: Annotated[str | None, Field(default=None, max_length=2000, pattern=NoNul,
                                     description="an SMS to run the scam check on")] = None
    account_id: Annotated[str | None, Field(default=None, min_length=1, max_length=128, pattern=NoNul,
                                            description="analysts: include the account's recent activity")] = None
    generator: Literal["extractive", "llm"] | None = Field(
        default=None, description="default: llm when the server has a chat API configured, else extractive")


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_id: Annotated[str, Field(min_length=1, max_length=128, pattern=NoNul,
                                     description="the channel's message id; a case is opened once per id")]
    text: Annotated[str, Field(min_length=1, max_length=4000, pattern=NoNul)]
    account_id: Annotated[str | None, Field(default=None, max_length=128, pattern=NoNul)] = None
    channel: Annotated[str | None, Field(default=None, max_length=32, pattern=NoNul)] = None
    received_at: datetime | None = Field(default=None, description="when the message arrived (UTC if no offset)")


@router.post("/v1/assistant/ask", response_model=Answer,
             summary="Answer a fraud-help question with citations, or abstain and offer a person")
def ask(body: AskIn, settings: Settings = Depends(get_settings_dep), store: Store = Depends(get_store),
        who: Principal = Depends(require_role("scorer"))) -> Answer:
    if (body.audience == "analyst" or body.account_id) and not who.has("analyst"):
        raise ForbiddenError("analyst answers and account look-ups need the analyst role",
                             hint="use a key created with `pesaguard keys create --role analyst`")
    if body.generator == "llm" and not settings.assistant_llm_url:
        # The server's configuration, not the request, lacks a chat API: the client can retry extractively.
        raise UsageError("this server has no chat API configured, so generator 'llm' is unavailable",
                         field="generator", hint="omit generator or send 'extractive'; the operator enables "
                         "the chat path with PESAGUARD_ASSISTANT_LLM_URL")
    return get_assistant(settings).ask(body.question, lang=body.lang, audience=body.audience, message=body.sms,
                                       account_id=body.account_id, generator=body.generator, store=store)


@router.post("/v1/messages/triage", response_model=TriageResult,
             summary="Triage a customer message (idempotent per message id: one case at most)")
def triage_message(body: TriageIn, settings: Settings = Depends(get_settings_dep),
                   store: Store = Depends(get_store), _: Principal = Depends(require_role("scorer"))) -> TriageResult:
    return triage(body.text, message_id=body.message_id, settings=settings, account_id=body.account_id,
                  channel=body.channel, received_ms=to_ms(body.received_at) if body.received_at else None,
                  store=store)
