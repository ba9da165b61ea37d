"""Case endpoints (analyst): the alert queue, one case, assign, comment, resolve with a label."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.config import Settings
from pesaguard.decisions import cases, summary
from pesaguard.service.auth import Principal
from pesaguard.service.deps import get_settings_dep, get_store, labels_added, require_role
from pesaguard.store import Store
from pesaguard.store import cases as repo

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Analyst = Annotated[Principal, Depends(require_role("analyst"))]
SafeText = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00]*$")]


class CaseSummary(BaseModel):
    case_id: str
    account_id: str
    status: str
    assignee: str | None
    opened_ms: int
    updated_ms: int
    resolved_ms: int | None
    resolution: str | None
    max_score: float
    worst_action: str
    top_reason: str | None
    max_amount: int
    n_alerts: int


class CaseDetail(CaseSummary):
    decisions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: Annotated[str | None, Field(max_length=128, pattern=r"^[^\x00]*$")] = None


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: SafeText


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Literal["fraud", "legitimate"]
    note: Annotated[str | None, Field(max_length=2000, pattern=r"^[^\x00]*$")] = None


@router.get("", response_model=list[CaseSummary], summary="The alert queue")
def list_cases(
    who: Analyst, store: Store = Depends(get_store),
    status: Literal["open", "resolved"] | None = "open",
    sort: Literal["score", "amount", "age", "updated", "alerts"] = "score",
    order: Literal["asc", "desc"] = "desc",
    reason: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Any:
    return repo.list_cases(store, status=status, sort=sort, descending=order == "desc", reason=reason,
                           min_score=min_score, limit=limit, offset=offset)


@router.get("/{case_id}", response_model=CaseDetail, summary="One case with decisions and timeline")
def get_case(case_id: str, who: Analyst, store: Store = Depends(get_store)) -> Any:
    return cases.get(store, case_id)


class CaseText(BaseModel):
    case_id: str
    lang: Literal["en", "sw"]
    text: str = Field(description="what happened, from the case's data; numbers, accounts and rule names all in it")
    source: str = Field(description='"template", or "chat:MODEL" when the chat API\'s text passed the check')
    rejected: list[str] = Field(description="why a generated text failed the check (the template's is returned)")


@router.get("/{case_id}/summary", response_model=CaseText, summary="A short written summary of the case")
def case_summary(case_id: str, who: Analyst, store: Store = Depends(get_store),
                 settings: Settings = Depends(get_settings_dep), lang: Literal["en", "sw"] = "en") -> Any:
    s = summary.summarize(cases.get(store, case_id), lang, chat=summary.chat_from_settings(settings),
                          currency=settings.currency)
    return CaseText(case_id=s.case_id, lang=s.lang, text=s.text, source=s.source, rejected=s.rejected)


@router.post("/{case_id}/assign", response_model=CaseDetail, summary="Assign (or unassign) a case")
def assign(case_id: str, body: AssignIn, who: Analyst, store: Store = Depends(get_store)) -> Any:
    return cases.assign(store, case_id, body.assignee, who.name)


@router.post("/{case_id}/comments", response_model=CaseDetail, summary="Add a comment")
def comment(case_id: str, body: CommentIn, who: Analyst, store: Store = Depends(get_store)) -> Any:
    return cases.comment(store, case_id, body.text, who.name)


@router.post("/{case_id}/resolve", response_model=CaseDetail,
             summary="Resolve with a label; its transactions are labelled in the store")
def resolve(case_id: str, body: ResolveIn, who: Analyst, request: Request,
            store: Store = Depends(get_store)) -> Any:
    case = cases.resolve(store, case_id, body.label, who.name, body.note)
    labels_added(request, cases.resolution_labels(case))
    return case
