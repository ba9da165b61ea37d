"""The console end to end in headless Chromium against a real uvicorn server: log in, find the case
in the queue, open it, label it fraud, and check the labels are in the store.

Set ``PESAGUARD_SCREENSHOTS=docs/img`` to refresh the screenshots in the docs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from ci_support import under_ci
from pesaguard.config import Settings
from pesaguard.decisions.policy import Policy
from pesaguard.decisions.rules import parse_rules
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key, hash_password
from pesaguard.store import access as repo
from pesaguard.store import core
from service_support import CHROMIUM_ARGS, ServerThread, TinyScorer, txn

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists() and not under_ci(),
                                 reason="Debian chromium is not installed")]


RULES = {"rules": [{"name": "big_cash_out", "when": ["amount_minor > 5000000", "type in [cash_out]"],
                    "action": "review", "reason": "large cash-out"}]}


def _traffic(url: str, key: str) -> None:
    """Ordinary daytime transfers for C001..C008; night-time large cash-outs from C000 (the model
    blocks them); one large daytime cash-out from C004 (the rule sends it to review)."""
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as client:
        for i in range(60):
            risky = i % 20 == 0
            body = txn(f"t{i:03d}", amount=4_000_000 + i * 1000 if risky else 2_000 + 37 * i, night=risky,
                       payer="C000" if risky else f"C{1 + i % 8:03d}", type="cash_out" if risky else "p2p")
            assert client.post("/v1/transactions", json=body).status_code == 200
        client.post("/v1/transactions", json=txn("t900", amount=9_000_000, payer="C004", type="cash_out"))


def test_analyst_logs_in_opens_a_case_and_labels_it(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("PESAGUARD_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    app = create_app(Settings(home=tmp_path / "home"), scorer=TinyScorer(),
                     policy=Policy(parse_rules(RULES)))
    store = app.state.store
    with ServerThread(app) as server:
        _traffic(server.url, create_key(store, "scorer"))
        repo.upsert_user(store, "amina", hash_password("correct horse"), "analyst")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.goto(f"{server.url}/console/queue")
            expect(page).to_have_url(f"{server.url}/console/login?next=/console/queue")
            page.fill("input[name=username]", "amina")
            page.fill("input[name=password]", "wrong")
            page.click("button[type=submit].primary")
            expect(page.get_by_role("alert")).to_contain_text("wrong user name or password")
            page.fill("input[name=username]", "amina")
            page.fill("input[name=password]", "correct horse")
            page.click("button[type=submit].primary")
            expect(page.locator("h1")).to_contain_text("Alert queue")
            rows = page.locator("#rows tr")
            expect(rows).to_have_count(2)
            expect(rows.first).to_contain_text("C000")  # the highest score sorts first
            expect(rows.nth(1)).to_contain_text("large cash-out")
            page.screenshot(path=str(shots / "console-queue.png"), full_page=True)
            # the reason filter narrows the queue through htmx, without a page load
            page.fill("#reason", "large amount at night")
            expect(page.locator("#rows")).not_to_contain_text("C004")
            _open_case(page, "C000")
            expect(page.locator("h1")).to_contain_text("Account C000")
            expect(page.locator(".decision").first).to_contain_text("large amount at night")
            page.locator("details summary").first.click()
            expect(page.locator("table.features").first).to_contain_text("log_amount")
            page.screenshot(path=str(shots / "console-case.png"), full_page=True)
            expect(page.locator("#summary")).to_contain_text("Flagged transactions: 3")
            page.locator("#summary a", has_text="Kiswahili").click()
            expect(page.locator("#summary")).to_contain_text("Akaunti C000")
            page.fill("input[name=note]", "customer confirmed SIM swap")
            page.click("#label-fraud")
            expect(page.locator("h1")).to_contain_text("resolved: fraud")
            page.goto(f"{server.url}/console/dashboard")
            expect(page.locator(".chart svg")).to_have_count(4)
            page.screenshot(path=str(shots / "console-dashboard.png"), full_page=True)
            browser.close()
    labels = core.load_labels(store)
    flagged = store.query("SELECT txn_id FROM decisions WHERE account_id = 'C000' AND action <> 'allow'")
    assert sorted(labels["txn_id"]) == sorted(r[0] for r in flagged) and len(labels) > 0
    assert set(labels["is_fraud"]) == {1} and set(labels["source"]) == {"analyst"}
    if "PESAGUARD_SCREENSHOTS" not in os.environ:
        shutil.rmtree(shots, ignore_errors=True)


def _open_case(page: Any, account: str) -> None:
    """Click the account's row link in the live queue.

    The queue's rows are swapped by htmx (the filter, and a poll every 5 s); a click that lands while
    a swap replaces the row hits a detached element and is lost. Wait until no htmx request is in
    flight, click, and click again if the case page did not load (a real user would click again too).
    """
    for _attempt in range(3):
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        page.locator("#rows a", has_text=account).first.click()
        try:
            page.wait_for_url("**/console/cases/**", timeout=5_000)
            return
        except Exception:  # playwright's TimeoutError: the click was lost to a swap
            continue
    raise AssertionError(f"the case page of {account} did not open after three clicks")
