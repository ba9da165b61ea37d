"""``POST /v1/assistant/ask`` (cited answers or a hand-off; SMS format; conversations; ledger and
report tools), ``POST /v1/assistant/ussd`` (the USSD menu as sessions; ``/v1/assistant/ussd/gateway``
takes a gateway's form post and answers in plain text) and ``POST /v1/messages/triage`` (urgency and
sentiment of a customer message; urgent ones open a case)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pesaguard.assistant import Answer, TriageResult, get_assistant, triage
from pesaguard.assistant.conversation import previous_turn, remember
from pesaguard.assistant.ussd import screen
from pesaguard.config import Settings
from pesaguard.decisions.decider import EventWindow
from pesaguard.errors import ForbiddenError, InputError, UsageError
from pesaguard.schema import to_ms
from pesaguard.service.auth import Principal
from pesaguard.service.deps import get_settings_dep, get_store, require_role
from pesaguard.store import Store
from pesaguard.store.assistant import open_triage_case

router = APIRouter(tags=["assistant"])
NoNul = r"^[^\x00]*$"
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=NoNul)]


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Annotated[str, Field(min_length=1, max_length=2000, pattern=NoNul)]
    lang: Literal["auto", "en", "sw"] = "auto"
    audience: Literal["customer", "analyst"] = "customer"
    format: Literal["text", "sms"] = Field(default="text", description="sms also returns the answer as 1-3 SMS parts")
    conversation_id: Id | None = Field(default=None, description="follow-ups in one conversation use the previous "
                                                                 "question (kept 30 minutes, redacted)")
    customer_account: Id | None = Field(default=None, description="the logged-in customer's account, as your channel "
                                                                  "authenticated it: enables the ledger check of "
                                                                  "'did I receive ...?' questions")
    message_id: Id | None = Field(default=None, description="the channel's message id: an urgent question opens a "
                                                            "case (once per id)")
    channel: Annotated[str | None, Field(default=None, max_length=32, pattern=NoNul)] = None
    sms: Annotated[str | None, Field(default=None, max_length=2000, pattern=NoNul,
                                     description="an SMS to run the scam check on")] = None
    account_id: Id | None = Field(default=None, description="analysts: include the account's recent activity")
    generator: Literal["extractive", "llm"] | None = Field(
        default=None, description="default: llm when the server has a chat API configured, else extractive")


class UssdIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: Id = Field(description="the gateway's session id (a report is recorded once per session)")
    text: Annotated[str, Field(default="", max_length=200, pattern=r"^[0-9*#]*$",
                               description="the user's input chain so far, '*'-separated: '' at the start, then "
                                           "'1', '1*2', ...")] = ""
    phone_number: Annotated[str | None, Field(default=None, max_length=32, pattern=r"^\+?[0-9]{6,15}$")] = None
    lang: Literal["en", "sw"] = "en"
    service_code: Annotated[str | None, Field(default=None, max_length=32, pattern=NoNul)] = None


class UssdOut(BaseModel):
    response: str = Field(description="the screen: starts with CON (more input expected) or END")
    lang: str
    done: bool
    ref: str | None = Field(default=None, description="the answer block shown, if any")
    case_opened: bool = Field(default=False, description="this request recorded an urgent report")


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
    previous = previous_turn(store, body.conversation_id) if body.conversation_id else None
    answer = get_assistant(settings).ask(
        body.question, lang=body.lang, audience=body.audience, message=body.sms, account_id=body.account_id,
        generator=body.generator, store=store, previous=previous, customer_account=body.customer_account,
        message_id=body.message_id, channel=body.channel, fmt=body.format)
    if body.conversation_id:
        remember(store, body.conversation_id, answer)
    return answer


def _ussd(body: UssdIn, settings: Settings, store: Store) -> UssdOut:
    index = get_assistant(settings).index
    index.reload_if_changed()
    s = screen(index, body.text, body.lang)
    opened = False
    if s.report is not None and body.phone_number:
        opened = open_triage_case(
            store, message_id=f"ussd:{body.session_id}", received_ms=int(time.time() * 1000),
            text=f"USSD report: {s.report.heading}", lang=s.lang, urgency="urgent", sentiment="negative",
            urgent_prob=1.0, cues=["ussd_report"], account_id=body.phone_number, channel="ussd")
        s = screen(index, body.text, body.lang, reported=True)  # the same screen on a retried request
    text = s.text
    return UssdOut(response=text, lang=s.lang, done=s.done, ref=s.report.ref if s.report else None,
                   case_opened=opened)


@router.post("/v1/assistant/ussd", response_model=UssdOut,
             summary="One USSD screen of the help menu generated from the knowledge base (stateless per chain)")
def ussd(body: UssdIn, settings: Settings = Depends(get_settings_dep), store: Store = Depends(get_store),
         _: Principal = Depends(require_role("scorer"))) -> UssdOut:
    return _ussd(body, settings, store)


@router.post("/v1/assistant/ussd/gateway", response_class=PlainTextResponse,
             summary="The USSD menu for a gateway's form post (sessionId, serviceCode, phoneNumber, text): "
                     "answers CON/END plain text")
def ussd_gateway(sessionId: Annotated[str, Form(min_length=1, max_length=128)],
                 text: Annotated[str, Form(max_length=200)] = "",
                 phoneNumber: Annotated[str | None, Form(max_length=32)] = None,
                 serviceCode: Annotated[str | None, Form(max_length=32)] = None,
                 lang: Annotated[Literal["en", "sw"], Form()] = "en",
                 settings: Settings = Depends(get_settings_dep), store: Store = Depends(get_store),
                 _: Principal = Depends(require_role("scorer"))) -> str:
    try:
        body = UssdIn(session_id=sessionId, text=text, phone_number=phoneNumber, service_code=serviceCode, lang=lang)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"USSD form field {'.'.join(str(x) for x in err['loc'])}: {err['msg']}",
                         field=str(err["loc"][0]), hint="text is the '*'-separated input chain, phoneNumber digits "
                                                        "with an optional +") from exc
    return _ussd(body, settings, store).response


@router.post("/v1/messages/triage", response_model=TriageResult,
             summary="Triage a customer message (idempotent per message id: one case at most)")
def triage_message(body: TriageIn, settings: Settings = Depends(get_settings_dep),
                   store: Store = Depends(get_store), _: Principal = Depends(require_role("scorer"))) -> TriageResult:
    received_ms = to_ms(body.received_at) if body.received_at else None
    if received_ms is not None:  # the case it opens is dated by it: the decisions' window
        EventWindow.from_settings(settings).check(received_ms, "received_at")
    return triage(body.text, message_id=body.message_id, settings=settings, account_id=body.account_id,
                  channel=body.channel, received_ms=received_ms, store=store)
