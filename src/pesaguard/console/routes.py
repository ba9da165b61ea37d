"""Console pages. Every page needs a log-in (:mod:`.session`); forms POST and redirect (303), and
htmx swaps the alert queue's rows in place and refreshes them every few seconds."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from pesaguard.console.session import (
    COOKIE,
    LoginRequired,
    LoginThrottle,
    check_csrf,
    csrf_token,
    current_user,
    login,
    logout,
)
from pesaguard.decisions import cases, summary
from pesaguard.decisions.summary import money
from pesaguard.errors import PesaguardError
from pesaguard.service.auth import Principal
from pesaguard.service.deps import labels_added
from pesaguard.store import cases as repo

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("pesaguard.console") / "templates"))
User = Annotated[Principal, Depends(current_user)]

def when(ms: int | None) -> str:
    """A stored time for people; any integer renders (a time outside the calendar shows as raw ms)."""
    if ms is None:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):
        return f"{ms} ms (outside the calendar)"


def age(ms: int | None) -> str:
    if ms is None:
        return ""
    s = max(0, int(datetime.now(tz=UTC).timestamp() - ms / 1000))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit} ago"
    return f"{s}s ago"


def num(value: Any) -> str:
    """Feature values: integers as they are, other numbers to 4 significant digits, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


templates.env.filters.update(money=money, when=when, age=age, num=num)


def assistant_answer() -> Any:
    """``pesaguard.assistant.answer`` if the assistant is installed, else None (hides the chat page)."""
    try:
        return getattr(importlib.import_module("pesaguard.assistant"), "answer", None)
    except Exception:
        return None


def _page(request: Request, name: str, user: Principal | None, **context: Any) -> HTMLResponse:
    context.update(user=user, csrf=csrf_token(request), chat_enabled=assistant_answer() is not None,
                   path=request.url.path)
    return templates.TemplateResponse(request, name, context)


@router.get("", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/console/queue", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/console/queue", error: str | None = None) -> HTMLResponse:
    return _page(request, "login.html", None, next=_safe_next(next), error=error)


@router.post("/login")
def login_submit(request: Request, username: Annotated[str, Form(max_length=200)] = "",
                 password: Annotated[str, Form(max_length=500)] = "",
                 next: Annotated[str, Form(max_length=500)] = "/console/queue") -> Response:
    try:
        token, _ = login(request.app.state.store, username, password, throttle=request.app.state.login_throttle,
                         address=request.client.host if request.client else "")
    except PesaguardError as exc:
        page = _page(request, "login.html", None, next=_safe_next(next), error=exc.message)
        page.status_code = exc.http_status
        return page
    resp = RedirectResponse(_safe_next(next), status_code=303)
    # Secure over HTTPS (uvicorn sets the scheme from a trusted proxy's X-Forwarded-Proto)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="lax", max_age=12 * 3600, path="/",
                    secure=request.url.scheme == "https")
    return resp


@router.post("/logout")
def logout_submit(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    logout(request.app.state.store, request.cookies.get(COOKIE))
    resp = RedirectResponse("/console/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


def _queue_args(status: str, sort: str, order: str, reason: str | None, min_score: float | None) -> dict[str, Any]:
    return {"status": status if status in ("open", "resolved") else None,
            "sort": sort if sort in repo.SORTS else "score", "descending": order != "asc",
            "reason": reason or None, "min_score": min_score}


QueueFilters = dict[str, Any]


def queue_filters(status: str = "open", sort: str = "score", order: str = "desc",
                  reason: Annotated[str | None, Query(max_length=200)] = None,
                  min_score: Annotated[str | None, Query(max_length=20)] = None) -> QueueFilters:
    # a form sends an empty box as "": treat it (and anything unreadable) as no filter
    try:
        score = min(max(float(min_score), 0.0), 1.0) if min_score else None
    except ValueError:
        score = None
    return {"status": status, "sort": sort, "order": order, "reason": reason or "", "min_score": score}


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, user: User, f: Annotated[QueueFilters, Depends(queue_filters)]) -> HTMLResponse:
    store = request.app.state.store
    rows = repo.list_cases(store, limit=100, **_queue_args(**f))
    return _page(request, "queue.html", user, rows=rows, f=f, open_count=repo.count_cases(store, "open"))


@router.get("/queue/rows", response_class=HTMLResponse)
def queue_rows(request: Request, user: User, f: Annotated[QueueFilters, Depends(queue_filters)]) -> HTMLResponse:
    rows = repo.list_cases(request.app.state.store, limit=100, **_queue_args(**f))
    return _page(request, "_queue_rows.html", user, rows=rows)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, user: User, lang: str = "en") -> HTMLResponse:
    case = cases.get(request.app.state.store, case_id)
    feature_names = sorted({k for d in case["decisions"] for k in d["features"]})
    settings = request.app.state.settings
    text = summary.summarize(case, "sw" if lang == "sw" else "en", chat=summary.chat_from_settings(settings),
                             currency=settings.currency)
    return _page(request, "case.html", user, case=case, feature_names=feature_names, summary=text)


@router.post("/cases/{case_id}/resolve")
def resolve(request: Request, case_id: str, user: User, label: Annotated[str, Form(pattern="^(fraud|legitimate)$")],
            csrf: Annotated[str, Form()] = "", note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    check_csrf(request, csrf)
    case = cases.resolve(request.app.state.store, case_id, label, user.name, note or None)
    labels_added(request, cases.resolution_labels(case))
    return RedirectResponse(f"/console/cases/{quote(case_id)}", status_code=303)


@router.post("/cases/{case_id}/assign")
def assign(request: Request, case_id: str, user: User, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    cases.assign(request.app.state.store, case_id, user.name, user.name)
    return RedirectResponse(f"/console/cases/{quote(case_id)}", status_code=303)


@router.post("/cases/{case_id}/comment")
def comment(request: Request, case_id: str, user: User, text: Annotated[str, Form(min_length=1, max_length=2000)],
            csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    cases.comment(request.app.state.store, case_id, text, user.name)
    return RedirectResponse(f"/console/cases/{quote(case_id)}", status_code=303)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, user: User) -> HTMLResponse:
    from pesaguard.console import charts  # matplotlib: imported on first use, not at service start

    store = request.app.state.store
    outcomes = repo.review_outcomes(store)
    return _page(request, "dashboard.html", user, outcomes=outcomes, open_count=repo.count_cases(store, "open"),
                 charts={"Alerts per day": charts.alerts_per_day(repo.alerts_per_day(store)),
                         "Review precision": charts.review_precision(outcomes),
                         "Score distribution": charts.score_distribution(repo.recent_scores(store)),
                         "Top reasons": charts.top_reasons(repo.recent_reasons(store))})


@router.get("/chat", response_class=HTMLResponse)
def chat_page(request: Request, user: User) -> HTMLResponse:
    return _page(request, "chat.html", user, question="", answer=None, error=None)


@router.post("/chat", response_class=HTMLResponse)
def chat_ask(request: Request, user: User, question: Annotated[str, Form(min_length=1, max_length=2000)],
             csrf: Annotated[str, Form()] = "") -> HTMLResponse:
    check_csrf(request, csrf)
    answer_fn = assistant_answer()
    answer, error = None, None
    if answer_fn is not None:
        try:
            answer = answer_fn(question, audience="analyst", settings=request.app.state.settings)
        except PesaguardError as exc:
            error = str(exc)
    return _page(request, "chat.html", user, question=question, answer=answer, error=error)


def _safe_next(target: str) -> str:
    # only local console paths: never an open redirect to another site
    return target if target.startswith("/console/") and "//" not in target else "/console/queue"


def install(app: FastAPI) -> None:
    """Mount the console pages, its static files and the log-in redirect on ``app``."""
    settings = app.state.settings
    app.state.login_throttle = LoginThrottle(settings.login_max_failures, settings.login_lockout_s)
    static = resources.files("pesaguard.console") / "static"
    app.mount("/console/static", StaticFiles(directory=str(static)), name="console-static")
    app.include_router(router)

    async def to_login(request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": "/console/login"})
        return RedirectResponse(f"/console/login?next={quote(target)}", status_code=303)

    app.add_exception_handler(LoginRequired, to_login)
