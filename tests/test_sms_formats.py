"""Operator notification formats: every operator and kind parses to the right fields, in many variants
(line breaks, masked names and numbers, promo tails, case), and imitations that break a format are caught.

The messages below were written for these tests in each operator's published shape; names, numbers
and ids are invented.
"""

from __future__ import annotations

import random
import re

import pytest

from pesaguard.sms.formats import FORMATS, OPERATORS, inspect, parse
from pesaguard.sms.formats.checks import sender_keys, sender_kind
from pesaguard.sms.generate.notifications import generate

# (text, operator, kind, amount_minor, currency, balance_minor, fee_minor, txn_id)
# An operator is a tuple where the shape is shared (without a sender ID, the text cannot say which).
CASES: list[tuple[str, str | tuple[str, ...], str, int, str, int | None, int | None, str | None]] = [
    # M-Pesa Kenya, English
    ("SBK3XY7ZQ1 Confirmed. You have received Ksh1,500.00 from JANE ROE 0712345678 on 20/2/24 at 10:15 AM "
     "New M-PESA balance is Ksh2,345.67. Earn interest daily on your savings, Dial *334#",
     "mpesa_ke", "received", 150000, "KES", 234567, None, "SBK3XY7ZQ1"),
    ("SBK3XY7ZQ2 Confirmed.You have received Ksh300.00 from PETER OTIENO 0722***845 on 2/2/24 at 7:05 PM New M-PESA "
     "balance is Ksh310.00.", "mpesa_ke", "received", 30000, "KES", 31000, None, "SBK3XY7ZQ2"),
    ("TGH4KL2MN0 Confirmed. You have received Ksh12,000.00 from KILIMA BANK 522533 on 17/7/25 at 9:01 AM New M-PESA "
     "balance is Ksh12,050.00.", "mpesa_ke", "received", 1200000, "KES", 1205000, None, "TGH4KL2MN0"),
    ("SBK3XY7ZQ3 Confirmed. Ksh500.00 sent to JANE DOE 0722123456 on 20/2/24 at 10:15 AM. New M-PESA balance is "
     "Ksh1,845.67. Transaction cost, Ksh7.00. Amount you can transact within the day is 499,500.00.",
     "mpesa_ke", "sent", 50000, "KES", 184567, 700, "SBK3XY7ZQ3"),
    ("SBK3XY7ZQ4 Confirmed. Ksh1,000.00 sent to KPLC PREPAID for account 37123456789 on 20/2/24 at 10:15 AM New M-PESA "
     "balance is Ksh845.67. Transaction cost, Ksh0.00.", "mpesa_ke", "bill", 100000, "KES", 84567, 0, "SBK3XY7ZQ4"),
    ("SBK3XY7ZQ5 Confirmed. Ksh250.00 paid to UPENDO MINI MART. on 20/2/24 at 10:15 AM.New M-PESA balance is "
     "Ksh595.67. Transaction cost, Ksh0.00.", "mpesa_ke", "payment", 25000, "KES", 59567, 0, "SBK3XY7ZQ5"),
    ("SBK3XY7ZQ6 Confirmed.on 20/2/24 at 10:15 AMWithdraw Ksh2,000.00 from 123456 - BAHATI AGENCIES Ruiru New "
     "M-PESA balance is Ksh345.67. Transaction cost, Ksh29.00.", "mpesa_ke", "withdrawn", 200000, "KES", 34567, 2900,
     "SBK3XY7ZQ6"),
    ("SBK3XY7ZQ7 Confirmed. On 20/2/24 at 10:15 AM Give Ksh1,000.00 cash to AMANI VENTURES New M-PESA balance is "
     "Ksh1,345.67.", "mpesa_ke", "deposit", 100000, "KES", 134567, None, "SBK3XY7ZQ7"),
    ("SBK3XY7ZQ8 confirmed.You bought Ksh50.00 of airtime on 20/2/24 at 10:15 AM.New M-PESA balance is Ksh295.67. "
     "Transaction cost, Ksh0.00.", "mpesa_ke", "airtime", 5000, "KES", 29567, 0, "SBK3XY7ZQ8"),
    ("SBK3XY7ZQ9 Confirmed. Transaction SBJ1XY7ZQ0 has been reversed. Your account balance is now Ksh5,987.00.",
     "mpesa_ke", "reversal", None, "KES", 598700, None, "SBK3XY7ZQ9"),  # type: ignore[list-item]
    ("SBK3XY7ZR1 Confirmed. Fuliza M-PESA amount is Ksh120.00. Access Fee charged Ksh1.20. Total Fuliza M-PESA "
     "outstanding amount is Ksh121.20 due on 21/03/24.", "mpesa_ke", "loan", 12000, "KES", None, 120, "SBK3XY7ZR1"),
    # M-Pesa Kenya, Swahili
    ("SBK3XY7ZR2 Imethibitishwa. Umepokea Ksh700.00 kutoka AMINA HASSAN 0711223344 mnamo 20/2/24 saa 10:15 AM Salio "
     "jipya la M-PESA ni Ksh900.00.", "mpesa_ke", "received", 70000, "KES", 90000, None, "SBK3XY7ZR2"),
    ("SBK3XY7ZR3 Imethibitishwa. Ksh700.00 imetumwa kwa AMINA HASSAN 0711223344 mnamo 20/2/24 saa 10:15 AM. Salio "
     "jipya la M-PESA ni Ksh200.00. Gharama ya kutuma ni Ksh13.00.", "mpesa_ke", "sent", 70000, "KES", 20000, 1300,
     "SBK3XY7ZR3"),
    # M-Pesa Tanzania
    ("CI12AB3CDE Imethibitishwa. Umepokea Tsh10,000.00 kutoka 255754123456 - NEEMA MUSHI mnamo 12/3/24 saa 2:15 PM. "
     "Salio lako jipya la M-Pesa ni Tsh15,000.00.", "mpesa_tz", "received", 1000000, "TZS", 1500000, None,
     "CI12AB3CDE"),
    ("CI12AB3CDF Confirmed. Tsh5,000.00 sent to BAKARI SWAI 255765112233 on 12/3/24 at 2:15 PM. New M-Pesa balance "
     "is Tsh9,000.00. Transaction cost, Tsh150.00. Government levy, Tsh37.50.", "mpesa_tz", "sent", 500000, "TZS",
     900000, 15000, "CI12AB3CDF"),
    ("CI12AB3CDG Imethibitishwa. Umetoa Tsh20,000.00 kutoka kwa wakala 123456 - FARAJA SHOP mnamo 12/3/24 saa 9:00 AM. "
     "Salio lako jipya la M-Pesa ni Tsh4,000.00. Ada Tsh700.00.", "mpesa_tz", "withdrawn", 2000000, "TZS", 400000,
     70000, "CI12AB3CDG"),
    # MTN MoMo Uganda
    ("Y'ello. You have received UGX 50,000 from JOHN MUKASA (256772123456) on your mobile money account at "
     "2024-03-12 14:15:30. Reason: rent. Your new balance: UGX 80,000. Financial Transaction Id: 12345678901.",
     "mtn_ug", "received", 50000, "UGX", 80000, None, "12345678901"),
    ("You have sent UGX 105,000 to SARAH NAKATO 0772123456 on 2024-03-12 14:15. Fee UGX 1,500. Tax UGX 525. "
     "Your new balance: UGX 20,000. Trans ID: 23456789012.", "mtn_ug", "sent", 105000, "UGX", 20000, 1500,
     "23456789012"),
    ("You have withdrawn UGX 100,000 from agent KATO MOBILE MONEY (Agent ID 123456) at 2024-03-12 14:15. Fee UGX 3,500. "
     "Your new balance: UGX 12,000. Transaction Id: 34567890123.", "mtn_ug", "withdrawn", 100000, "UGX", 12000, 3500,
     "34567890123"),
    ("Cash deposit of UGX 50,000 with Agent ID 654321 (NANSANA TRADERS) successful. New balance: UGX 62,000. "
     "Trans ID: 45678901234.", "mtn_ug", "deposit", 50000, "UGX", 62000, None, "45678901234"),
    ("You have bought UGX 1,000 airtime for 256772123456. Your new balance: UGX 11,000. Trans ID: 56789012345.",
     "mtn_ug", "airtime", 1000, "UGX", 11000, None, "56789012345"),
    ("Dial *165# and select My Approvals to allow payment of UGX 20,000 to NWSC. Request expires in 5 minutes.",
     "mtn_ug", "approval", 20000, "UGX", None, None, None),
    # MTN Rwanda (English, Kinyarwanda), Ghana, Zambia, Cameroon
    ("You have received 5,000 RWF from ERIC HABIMANA (250788123456) at 2024-03-12 14:15:30. Your new balance: "
     "12,000 RWF. Financial Transaction Id: 67890123456.", "mtn_rw", "received", 5000, "RWF", 12000, None,
     "67890123456"),
    ("Wakiriye 5,000 RWF kuva kuri ERIC HABIMANA (250788123456) ku wa 2024-03-12 14:15:30. Amafaranga asigaye: "
     "12,000 RWF. Nimero y'igikorwa: 67890123457.", "mtn_rw", "received", 5000, "RWF", 12000, None, "67890123457"),
    ("Payment received for GHS 50.00 from KOFI MENSAH Current Balance: GHS 80.00 . Available Balance: GHS 80.00. "
     "Reference: rent. Transaction ID: 78901234567. TRANSACTION FEE: 0.00", "mtn_gh", "received", 5000, "GHS", 8000,
     None, "78901234567"),
    ("You have received K150.00 from MWILA BANDA (260961234567) at 2024-03-12 14:15. Your new balance: K300.00. "
     "Transaction Id: 89012345678.", "mtn_zm", "received", 15000, "ZMW", 30000, None, "89012345678"),
    ("Vous avez reçu 5 000 FCFA de PAUL NGONO (237677123456) le 2024-03-12 14:15:30. Votre nouveau solde est de "
     "12 000 FCFA. ID de transaction: 90123456789.", "mtn_cm", "received", 5000, "XAF", 12000, None, "90123456789"),
    ("Vous avez transféré 2000 FCFA à MARIE ATANGANA (237677654321) le 2024-03-12 14:15. Frais: 50 FCFA. Nouveau "
     "solde: 7000 FCFA. ID de transaction: 90123456780.", "mtn_cm", "sent", 2000, "XAF", 7000, 50, "90123456780"),
    # Airtel Money
    ("Trans. ID: 1440225031704 You have received 50.00Ksh from GRACE WANJIKU. Your available balance is 155.00Ksh.",
     "airtel_ke", "received", 5000, "KES", 15500, None, "1440225031704"),
    ("SENT UGX 105,000 to NAME 07XXXXXXXX. Fee UGX 1,500. Bal UGX 20,000. Trans ID 12345678901",
     "airtel_ug", "sent", 105000, "UGX", 20000, 1500, "12345678901"),
    ("RECEIVED. TID 123456789012. UGX 40,000 from BRENDA ATUHAIRE, 0752123456. Bal UGX 45,500.", "airtel_ug",
     "received", 40000, "UGX", 45500, None, "123456789012"),
    ("WITHDRAWN. TID 123456789013. UGX 100,000 with Agent ID: 55512. Fee UGX 3,500. Bal UGX 2,000.", "airtel_ug",
     "withdrawn", 100000, "UGX", 2000, 3500, "123456789013"),
    ("Umepokea Tsh 10,000 kutoka kwa RAJABU SAID, 0684123456. Salio jipya ni Tsh 15,000. Muamala: MP240312.1415.A12345",
     "airtel_tz", "received", 1000000, "TZS", 1500000, None, "MP240312.1415.A12345"),
    ("Trans ID: MP240312.1415.B23456. You have received ZMW 150.00 from 0971234567 CHANDA TEMBO. Your balance is "
     "ZMW 300.00.", "airtel_zm", "received", 15000, "ZMW", 30000, None, "MP240312.1415.B23456"),
    ("Trans ID: MP240312.1415.C34567. You have received MWK 20,000.00 from CHIKONDI PHIRI 0991234567. Your available "
     "balance is MWK 45,000.00.", "airtel_mw", "received", 2000000, "MWK", 4500000, None, "MP240312.1415.C34567"),
    ("TID: 123456789014. You have sent RWF 5,000 to DIANE UWASE 0731234567. Fee RWF 100. Your balance is RWF 7,000.",
     "airtel_rw", "sent", 5000, "RWF", 7000, 100, "123456789014"),
    # Tigo Pesa / Mixx by Yas, HaloPesa, T-Kash
    ("New balance is Tsh 138,522. You have received Tsh 50,000 from ASHA MREMA, 0713666074. 31/01/2024 05:36 PM; "
     "with TxnId: PP240131.1736.D06413.", "tigopesa_tz", "received", 5000000, "TZS", 13852200, None,
     "PP240131.1736.D06413"),
    ("New balance is Tsh 2,515. Money sent successfully to PENDO KIWELU, 0745239044. Amount: Tsh 31,000. Fee: Tsh 350. "
     "TxnID: PP240304.0912.J02744.", "tigopesa_tz", "sent", 3100000, "TZS", 251500, 35000, "PP240304.0912.J02744"),
    ("Muamala No: 7712345678. Umepokea TSh 20,000 kutoka kwa SAIDA CHACHA (0713123456). Salio lako jipya la Mixx ni "
     "TSh 30,500.", "tigopesa_tz", "received", 2000000, "TZS", 3050000, None, "7712345678"),
    ("Umepokea Tsh 20,000 kutoka ELIA MASSAWE 0621123456. Salio lako jipya ni Tsh 25,000. Kumbukumbu No: 123456789012.",
     ("halopesa_tz", "airtel_tz", "tigopesa_tz"), "received", 2000000, "TZS", 2500000, None, "123456789012"),
    ("TK1A2B3C4D Confirmed. You have received Ksh500.00 from FAITH MUTUA 0771123456 on 12/3/24 at 2:15 PM. New T-Kash "
     "balance is Ksh1,200.00.", "tkash_ke", "received", 50000, "KES", 120000, None, "TK1A2B3C4D"),
]


CASE_IDS = [f"{c[1] if isinstance(c[1], str) else c[1][0]}-{c[2]}-{i}" for i, c in enumerate(CASES)]


def _check(text: str, operator: str | tuple[str, ...], kind: str, amount: int | None, currency: str,
           balance: int | None, fee: int | None, txid: str | None) -> None:
    r = inspect(text)
    assert r.status == "consistent", (r.status, r.reasons, text)
    n = r.notification
    assert n is not None
    assert n.operator in (operator if isinstance(operator, tuple) else (operator,)), text
    assert (n.kind, n.amount_minor, n.currency, n.balance_minor, n.fee_minor) == (kind, amount, currency, balance, fee), \
        text
    if txid is not None:
        assert n.txn_id is not None and n.txn_id.upper() == txid.upper()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_operator_and_kind_parses_to_its_fields(case: tuple) -> None:  # type: ignore[type-arg]
    _check(*case)


def _variants(text: str, rng: random.Random) -> list[str]:
    """Ways the same genuine message reaches a data set: wrapped lines, a promo tail, masked numbers and names,
    no space after full stops, case folded."""
    wrapped = re.sub(r" ", lambda m: "\n" if rng.random() < 0.15 else " ", text)
    masked = re.sub(r"\b(0|2\d\d)(\d{2})\d{5}(\d{2,3})\b", lambda m: m.group(1) + m.group(2) + "XXXXX" + m.group(3), text)
    named = re.sub(r"\b(from|to|kwa|kutoka|de|à|kuri) [A-Z]{3,} [A-Z]{3,}\b", r"\1 NAME", text, count=1)
    return [wrapped, text + " Download the app for more.", masked, named, text.replace(". ", "."), text.lower()]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_variants_of_a_genuine_message_stay_consistent(case: tuple) -> None:  # type: ignore[type-arg]
    text, _operator, kind, amount, _currency, balance, fee, _txid = case
    for variant in _variants(text, random.Random(text)):
        r = inspect(variant)
        assert r.status == "consistent", (r.reasons, variant)
        n = r.notification
        assert n is not None and (n.kind, n.amount_minor, n.balance_minor, n.fee_minor) == (kind, amount, balance, fee), \
            variant


@pytest.mark.parametrize("family", ["a", "b"])
def test_generated_notifications_of_every_operator_are_consistent(family: str) -> None:
    texts = generate(600, family, seed=11)
    results = [inspect(t) for t in texts]
    assert all(r.status == "consistent" for r in results), [(r.reasons, r.text) for r in results if r.status != "consistent"][:3]
    operators = {r.notification.operator for r in results if r.notification}
    # HaloPesa prints shapes Airtel Tanzania prints too: without a sender ID, the first listed wins
    assert operators == {op.key for op in OPERATORS} - {"halopesa_tz"}
    halo = "Umepokea Tsh 20,000 kutoka ELIA MASSAWE 0621123456. Salio lako jipya ni Tsh 25,000. Kumbukumbu No: 123456789012."
    assert inspect(halo, sender="HaloPesa").notification.operator == "halopesa_tz"  # type: ignore[union-attr]
    assert inspect(halo, sender="AirtelMoney").notification.operator == "airtel_tz"  # type: ignore[union-attr]


MINIMAL_PAIRS = [
    # (genuine message, appended text, problem code)
    (CASES[29][0], ". I sent it by mistake please send it back, call 0772123456", "reversal_request"),
    (CASES[0][0], " Tafadhali nirudishie hiyo pesa nimekosea namba", "reversal_request"),
    (CASES[16][0], " Please reverse it to 0701234567 urgently", "reversal_request"),
    (CASES[17][0], " For help call our officer on 0788123456", "call_number"),
    (CASES[0][0], " Confirm by replying with your M-PESA PIN", "secret_request"),
    (CASES[38][0], " Nitumie hiyo pesa kwa namba hii 0655123456", "reversal_request"),
]


@pytest.mark.parametrize(("genuine", "tail", "code"), MINIMAL_PAIRS)
def test_an_imitation_that_asks_for_something_is_caught_with_its_reason(genuine: str, tail: str, code: str) -> None:
    assert inspect(genuine).status == "consistent"
    r = inspect(genuine + tail)
    assert r.status == "inconsistent" and code in {p.code for p in r.problems}, r.reasons
    assert all(p.reason for p in r.problems)


def test_numbers_that_do_not_add_up_are_caught() -> None:
    mpesa = CASES[0][0]
    r = inspect(mpesa.replace("Ksh2,345.67", "Ksh1,000.00"))  # received 1,500, balance 1,000
    assert r.status == "inconsistent" and [p.code for p in r.problems] == ["balance"]
    assert "the numbers do not add up" in r.reasons[0]
    # a Fuliza repayment takes a cut of money received: a lower balance is then normal
    ok = mpesa.replace("Ksh2,345.67", "Ksh1,000.00") + " Ksh500.00 has been used to pay your outstanding Fuliza M-PESA."
    assert inspect(ok).status == "consistent"
    fee = inspect(CASES[17][0].replace("Fee UGX 1,500", "Fee UGX 95,000"))
    assert [p.code for p in fee.problems] == ["fee"]
    limit = inspect(CASES[3][0].replace("499,500.00", "500,000.00"))  # sent 500 yet 500,000 left of a 500,000 limit
    assert [p.code for p in limit.problems] == ["daily_limit"]
    date = inspect(CASES[0][0].replace("20/2/24", "31/2/24"))
    assert [p.code for p in date.problems] == ["date"]


def test_an_id_of_the_wrong_shape_is_caught() -> None:
    r = inspect(CASES[0][0].replace("SBK3XY7ZQ1", "SBK3X"))  # too short for an M-Pesa id
    assert r.status in ("inconsistent", "none")
    if r.status == "inconsistent":
        assert "txn_id" in {p.code for p in r.problems}
    mtn = inspect(CASES[16][0].replace("12345678901", "AB12CD"))  # MTN ids are numeric
    assert mtn.status == "inconsistent" and {p.code for p in mtn.problems} == {"txn_id"}
    masked = inspect(CASES[16][0].replace("12345678901", "XXXXXXXXXXX"))  # an anonymised id is not evidence
    assert masked.status == "consistent"


def test_advice_and_operator_tails_are_not_asks() -> None:
    for tail in (" Never share your PIN with anyone.", " PIN YAKO SIRI YAKO.", " Safaricom only calls you from 0722000000.",
                 " Sent money to the wrong number? Forward this SMS to 456 to reverse.", " Ntuzigere usangiza PIN yawe."):
        r = inspect(CASES[0][0] + tail)
        assert r.status == "consistent", (tail, r.reasons)


def test_sender_ids() -> None:
    known = sender_keys(["MPESA", "M-PESA", "MTN MoMo", "AirtelMoney"])
    assert sender_kind("M-PESA", known) == "operator" and sender_kind("mpesa", known) == "operator"
    assert sender_kind("+254712345678", known) == "phone" and sender_kind("0712 345 678", known) == "phone"
    assert sender_kind("MPESA-KE", known) == "lookalike" and sender_kind("M-PESSA", known) == "lookalike"
    assert sender_kind("NAIVAS", known) == "other" and sender_kind(None, known) is None
    r = inspect(CASES[0][0], sender="M-PESA1")
    assert r.status == "inconsistent" and [p.code for p in r.problems] == ["lookalike_sender"]
    assert inspect(CASES[0][0], sender="MPESA").status == "consistent"
    assert inspect(CASES[0][0], sender="0712345678").sender == "phone"


def test_ordinary_messages_match_no_format() -> None:
    for text in ("Hi mum, I'll send 500 later", "Nitakutumia pesa kesho asubuhi", "Your bill of KES 2,000 is due",
                 "You have won KES 50,000! Call 0712345678", "Dial *544# for bundles", ""):
        assert parse(text) == [], text


def test_format_names_are_unique_and_most_formats_have_words_to_prefilter() -> None:
    names = [f.name for f in FORMATS]
    assert len(names) == len(set(names))
    assert not [f.name for f in FORMATS if re.search(r"\{[a-z][a-z0-9]*\}", f.regex.pattern)]  # every macro expanded
    assert sum(not f.words for f in FORMATS) < 0.15 * len(FORMATS)
