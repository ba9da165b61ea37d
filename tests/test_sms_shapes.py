"""Real notification and marketing shapes that every East African phone receives are never called scams.

Each message below was written for this test from the public shapes of operator, utility, shop and
subscription messages (no data set was copied; names, numbers and ids are made up). A phone that
flags its owner's own MoMo confirmation gets its shield turned off, so the full decision (text model,
operator formats, cues) must say genuine or promotion for all of them, and the operator confirmations
must be recognised as consistent notifications. The minimal pair: the same confirmation with a plea to
send the money back is a scam.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pesaguard.config import Settings
from pesaguard.sms.shield import Shield
from pesaguard.sms.train import load_text_model
from sms_support import sms_model_dir  # noqa: F401  (fixture)

# Operator confirmations: recognised by a format, consistent, genuine.
OPERATOR = {
    "Airtel UG sent": [
        "SENT UGX 250,000 to OKELLO PETER 0752XXXXXX. Fee UGX 3,000. Bal UGX 48,200. Trans ID 98765432101",
        "SENT. TID 45678901234. UGX 12,500 to NAKATO SARAH 0701XXXXXX. Fee UGX 500. Bal UGX 7,300.",
        "SENT UGX 5,000 to MUKASA JOHN 0756123456. Fee UGX 100. Bal UGX 61,450. Trans ID 10293847561",
    ],
    "MTN UG sent": [
        "You have sent UGX 40,000 to AKELLO GRACE (256772345678) on 2025-01-14 09:42:10. Reason: school fees. "
        "Fee UGX 1,000. Your new balance: UGX 15,600. Financial Transaction Id: 23456789012.",
        "Y'ello. You have transferred UGX 7,000 to SSEMPALA ROBERT (256789012345) on 2025-02-03 18:05. Fee was "
        "UGX 500. Tax was UGX 35. Your new balance: UGX 2,465. Trans ID: 34567890123.",
    ],
    "withdrawn": [
        "You have withdrawn UGX 300,000 from agent MUKONO MOBILE MONEY (Agent ID 778899) at 2025-01-20 16:30. "
        "Fee UGX 7,000. Your new balance: UGX 93,000. Transaction Id: 45678901234.",
        "WITHDRAWN. TID 56789012345. UGX 50,000 with Agent ID: 40412. Fee UGX 2,500. Bal UGX 11,250.",
    ],
    "cash deposit": [
        "Cash deposit of UGX 120,000 with Agent ID 112233 (KAWEMPE SHOP) successful. New balance: UGX 145,500.",
        "Cash deposit of UGX 20,000 with Agent ID 998877 successful. Your new balance: UGX 20,850. "
        "Trans ID: 67890123456.",
    ],
    "airtime": [
        "You have bought UGX 2,000 airtime for 256771234567. Your new balance: UGX 8,400. Trans ID: 78901234567.",
        "You have bought UGX 500 airtime. Your new balance: UGX 3,120. Trans ID: 89012345678.",
    ],
    "*165# My Approvals": [
        "Dial *165# and select My Approvals to allow payment of UGX 35,000 to UMEME.",
        "Dial *165# and select My Approvals to allow payment of UGX 12,500 to JUMIA UGANDA. Request expires in "
        "5 minutes.",
    ],
}
# Bills and service notices: genuine (a pay-TV renewal reminder may read as a promotion), never a scam.
BILLS = [
    "Dear customer, your KPLC postpaid bill for account 12345678 is KES 2,340.00, due on 15/03/2025. Pay via "
    "M-PESA Paybill 888888.",
    "NWSC: Your water bill for account 2012345 for February is UGX 46,000. Please pay by 28/02/2025 to avoid "
    "disconnection.",
    "UMEME: Payment of UGX 50,000 for meter 04212345678 received. Token: 4512 3345 6612 0098 1123. Units 61.2kWh.",
    "Nairobi Water: Your bill of KES 1,150 for account 123-456 is due on 10/04/2025. Pay via Paybill 444400.",
    "DAWASA: Deni lako la maji kwa akaunti 556677 ni Tsh 35,000. Lipa kabla ya tarehe 30 kuepuka kukatiwa huduma.",
    "GOtv: Your subscription for IUC 2041234567 expires on 12/03. Renew GOtv Max at UGX 42,000 via MoMo *165#.",
]
# Shop offers, subscription content, ringback tunes: promotions.
PROMOTIONS = {
    "supermarket": [
        "Carrefour: Weekend deals! 20% off all rice and cooking oil until Sunday. Reply STOP to 21456 to opt out.",
        "QUICKMART: Buy 2 get 1 free on all juices this week. Show this SMS at the till. STOP to 22333",
        "Chandarana FoodPlus: Fresh bread at Ksh 50 every morning this month. T&Cs apply.",
        "Naivas: Tumia points zako kununua bidhaa zote. Ofa hii inaisha Jumapili. SMS STOP kwa 21563",
    ],
    "subscription": [
        "Verse of the day: The Lord is my shepherd; I shall not want. (Psalm 23:1). Reply STOP to 20123 to "
        "unsubscribe. Ksh 5/day",
        "Daily quote: Success is not final, failure is not fatal. Subscription renewed at UGX 200/day. To cancel "
        "reply STOP",
        "Neno la leo: Mungu ni mwema wakati wote. Huduma hii ni Tsh 100 kwa siku. Tuma STOP kwenda 15577 kuiondoa.",
        "Your daily horoscope: Today brings good news at work. Reply STOP to stop this service.",
        "Football news: Arsenal 2-1 Chelsea, full time. You are subscribed to Sports Alerts at Ksh 10/day. Reply "
        "STOP to 22099",
    ],
    "ringback tune": [
        "Get 'Mama Yangu' by Sauti Sol as your Skiza tune. Dial *811*123# to subscribe at Ksh 1.50 per day.",
        "Your Callertunez subscription has been renewed for 30 days at UGX 3,000. To unsubscribe dial *164#",
        "Set 'Nalituuse' as your MTN Callertune for UGX 100/day. Reply 1 to subscribe or dial *160#",
        "Tunes za kupiga: Weka wimbo 'Yesu ni wangu' kwa Tsh 50 kwa siku. Jibu 1 kujiunga.",
    ],
}
PLEAS = [". I sent it to you by mistake, please send it back to 0772345678",
         " Nimekosea kutuma, tafadhali nirudishie kwa 0712345678"]


@pytest.fixture(scope="module")
def shield(sms_model_dir: Path) -> Shield:  # noqa: F811
    settings = Settings(home=Path("/nonexistent-pesaguard-home"))  # the shipped model, nothing from a home
    return Shield(load_text_model(settings), settings)


@pytest.mark.parametrize("shape", list(OPERATOR))
def test_operator_confirmations_are_consistent_and_genuine(shield: Shield, shape: str) -> None:
    for text in OPERATOR[shape]:
        r = shield.check(text)
        assert (r.verdict, r.category) == ("genuine", "genuine"), (text, r.reasons)
        assert r.notification is not None and r.notification.consistent, (text, r.notification)
        assert r.notification.operator in {"mtn_ug", "airtel_ug"} and r.notification.currency == "UGX"


@pytest.mark.parametrize("shape", list(OPERATOR))
def test_the_same_confirmation_asking_for_the_money_back_is_a_scam(shield: Shield, shape: str) -> None:
    for text in OPERATOR[shape]:
        for plea in PLEAS:
            r = shield.check(text + plea)
            assert r.verdict == "scam" and r.category == "scam", (text + plea, r.reasons)


def test_bills_are_never_scams(shield: Shield) -> None:
    results = [shield.check(t) for t in BILLS]
    assert [r.verdict for r in results if r.verdict == "scam"] == [], [(t, r.reasons) for t, r in
                                                                      zip(BILLS, results, strict=True)]
    assert all(r.category in ("genuine", "promotion") for r in results)
    assert sum(r.category == "genuine" for r in results) >= len(BILLS) - 1


@pytest.mark.parametrize("shape", list(PROMOTIONS))
def test_offers_subscriptions_and_tunes_are_promotions_not_scams(shield: Shield, shape: str) -> None:
    for text in PROMOTIONS[shape]:
        r = shield.check(text)
        assert r.verdict != "scam" and r.category == "promotion", (text, r.category_scores, r.reasons)


def test_the_console_timeline_shows_each_messages_category(tmp_path: Path) -> None:
    """A promotion and a scam checked for an account appear on its case page with their categories."""
    import re

    from fastapi.testclient import TestClient

    from pesaguard.service.app import create_app
    from pesaguard.service.auth import create_key
    from service_support import TinyScorer, txn

    app = create_app(Settings(home=tmp_path / "home"), scorer=TinyScorer())
    with TestClient(app) as client:
        scorer = {"X-API-Key": create_key(app.state.store, "scorer")}
        assert client.post("/v1/transactions", json=txn("t1", amount=5_000_000, night=True, payer="C0"),
                           headers=scorer).status_code < 300
        checked = {}
        for text in (PROMOTIONS["ringback tune"][0], "Mimi ni wakala wa M-PESA. Tuma namba yako ya siri kwa 0788123456"):
            r = client.post("/v1/sms/check", json={"text": text, "sender": "0788123456", "to": "C0"}, headers=scorer)
            assert r.status_code == 200, r.text
            checked[r.json()["category"]] = r.json()["verdict"]
        assert set(checked) == {"promotion", "scam"} and checked["scam"] == "scam"
        key = create_key(app.state.store, "analyst")
        client.post("/console/login", data={"username": "", "password": key})
        rows = client.get("/console/queue/rows").text
        case_id = re.findall(r'/console/cases/([^"]+)"', rows)[0]
        page = client.get(f"/console/cases/{case_id}").text
        shown = re.findall(r'class="sms-category"[^>]*>(\w+)<', page)
        assert sorted(shown) == ["promotion", "scam"], shown
