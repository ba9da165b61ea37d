"""Money-received claims against a real ledger (SQLite and PostgreSQL), and the SMS repository."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pesaguard.config import Settings
from pesaguard.errors import ConfigError
from pesaguard.sms.claims import check_claim, load_formats, parse_claim, sender_is_operator
from pesaguard.sms.shield import Shield, record
from pesaguard.store import Store, core
from pesaguard.store import sms as sms_store

EAT = timezone(timedelta(hours=3))
T0 = int(datetime(2024, 1, 3, 14, 15, tzinfo=EAT).timestamp() * 1000)  # "3/1/24 at 2:15 PM" in Nairobi

# (text, format, amount_minor, currency, code, payer phone): operator formats come from
# pesaguard.sms.formats (parsed field by field), the last two from the generic YAML fallbacks.
NOTICES: list[tuple[str, str, int, str, str | None, str | None]] = [
    ("SA32AB34CD Confirmed. You have received Ksh5,000.00 from JOHN DOE 0712345678 on 3/1/24 at 2:15 PM "
     "New M-PESA balance is Ksh7,250.00. Separate personal and business funds through Pochi la Biashara.",
     "mpesa_ke_en_received", 500000, "KES", "SA32AB34CD", "0712345678"),
    ("SA3K3XY7Q1 Confirmed. You have received Ksh1,250.00 from KILIMA BANK 247247 on 3/1/24 at 2:15 PM. "
     "New M-PESA balance is Ksh3,010.50.", "mpesa_ke_en_received", 125000, "KES", "SA3K3XY7Q1", None),
    ("SA32AB34CD Imethibitishwa. Umepokea Ksh5,000.00 kutoka kwa JOHN DOE 0712345678 mnamo 3/1/24 saa 2:15 PM. "
     "Salio jipya la M-PESA ni Ksh7,250.00.", "mpesa_ke_sw_received", 500000, "KES", "SA32AB34CD", "0712345678"),
    ("9C12AB34CD Imethibitishwa. Umepokea Tsh20,000.00 kutoka 255754123456 - AMINA JUMA mnamo 3/1/24 saa 2:15 PM "
     "Salio lako jipya la M-Pesa ni Tsh45,000.00.", "mpesa_tz_sw_received", 2000000, "TZS", "9C12AB34CD",
     "255754123456"),
    ("9C12AB34CD Confirmed. You have received Tsh20,000.00 from 255754123456 - AMINA JUMA on 3/1/24 at 2:15 PM "
     "New M-Pesa balance is Tsh45,000.00.", "mpesa_tz_en_received", 2000000, "TZS", "9C12AB34CD", "255754123456"),
    ("Muamala No: 7712345678. Umepokea TSh 20,000 kutoka kwa AMINA JUMA (255713123456). Salio jipya ni TSh 30,500.",
     "airtel_tz_sw_received", 2000000, "TZS", "7712345678", "255713123456"),
    ("TID: MP240312.1020.B12345. You have received UGX 50,000 from 256701234567 - JOHN OKELLO. "
     "Your balance is UGX 80,000.", "airtel_ug_en_received", 50000, "UGX", "MP240312.1020.B12345", "256701234567"),
    ("You have received UGX 5,000 from JOHN OKELLO (256772123456) on 2024-01-03 14:15:00. Reason: rent. "
     "Your new balance: UGX 12,000. Financial Transaction Id: 1234567890.", "mtn_ug_en_received", 5000, "UGX",
     "1234567890", "256772123456"),
    ("Umetumiwa Tsh 50,000 na JUMA ALLY. Salio lako jipya ni Tsh 52,000", "generic_sw", 5000000, "TZS", None, None),
    ("Dear customer you have received KES 10,000 from MARY 0711222333, kindly confirm", "generic_en", 1000000,
     "KES", None, "0711222333"),
]


@pytest.mark.parametrize(("text", "fmt", "amount", "currency", "code", "phone"), NOTICES)
def test_notification_formats_parse(text: str, fmt: str, amount: int, currency: str, code: str | None,
                                    phone: str | None) -> None:
    claim = parse_claim(text)
    assert claim is not None
    assert claim.format == fmt or claim.format.startswith(fmt + "_")  # "_2", "_3": another shape of the same kind
    assert (claim.amount_minor, claim.currency, claim.code, claim.payer_phone) == (amount, currency, code, phone)


def test_notification_time_is_read_in_east_africa_time() -> None:
    claim = parse_claim(NOTICES[0][0])
    assert claim is not None and claim.sent_ms == T0
    assert parse_claim(NOTICES[7][0]).sent_ms == T0  # type: ignore[union-attr]


def test_money_going_out_is_not_a_claim() -> None:
    sent = ("SA32AB34CE Confirmed. Ksh500.00 sent to JANE DOE 0722123456 on 3/1/24 at 2:15 PM. New M-PESA balance is "
            "Ksh1,845.67. Transaction cost, Ksh7.00.")
    assert parse_claim(sent) is None


@pytest.mark.parametrize("text", ["Hi mum, I'll send 500 later", "Nitakutumia pesa kesho asubuhi",
                                  "Your bill of KES 2,000 is due", "You have won KES 50,000! Call 0712345678"])
def test_ordinary_messages_are_not_claims(text: str) -> None:
    assert parse_claim(text) is None


def test_operator_formats_file_is_tried_first(tmp_path: Path) -> None:
    f = tmp_path / "formats.yaml"
    f.write_text("formats:\n  - name: my_bank\n    pattern: 'Credit alert: {cur} {amount} from {name}'\n")
    formats = load_formats(f)
    assert formats[0].name == "my_bank"
    claim = parse_claim("Credit alert: KES 1,500 from JANE", formats)
    assert claim is not None and (claim.format, claim.amount_minor) == ("my_bank", 150000)
    f.write_text("formats:\n  - name: broken\n    pattern: 'no amount here'\n")
    with pytest.raises(ConfigError, match="broken"):
        load_formats.__wrapped__(f)


def test_sender_ids() -> None:
    ops = ["MPESA", "M-PESA", "MoMo"]
    assert sender_is_operator("M-PESA", ops) and sender_is_operator("mpesa", ops)
    assert sender_is_operator("+254712345678", ops) is False
    assert sender_is_operator(None, ops) is None


def _ledger(store: Store, rows: Sequence[tuple[str, int, str, str, int, str]]) -> None:
    core.insert_transactions(store, pd.DataFrame(rows, columns=["txn_id", "ts_ms", "payer", "payee", "amount_minor",
                                                                "currency"]))


def test_claims_are_checked_against_the_ledger(store: Store) -> None:
    _ledger(store, [
        ("SA32AB34CD", T0 + 20_000, "C0712345678", "C1", 500000, "KES"),
        ("T-other", T0 - 60_000, "0711222333", "C1", 1000000, "KES"),
        ("T-ugx", T0, "256772123456", "C2", 5000, "UGX"),
    ])
    ke = parse_claim(NOTICES[0][0])
    assert ke is not None
    assert check_claim(store, ke, "C1", None)[:2] == ("verified", "SA32AB34CD")  # by code
    assert check_claim(store, ke, "C9", None)[0] == "no_match"  # another account
    status, txn, reasons = check_claim(store, ke, "C1", T0 + 30 * 86_400_000)
    assert (status, txn) == ("verified", "SA32AB34CD")  # the notice's own time finds it
    generic = parse_claim(NOTICES[9][0])
    assert generic is not None and generic.sent_ms is None
    assert check_claim(store, generic, "C1", T0)[:2] == ("verified", "T-other")  # by payer number
    assert check_claim(store, generic, "C1", T0 + 6 * 3600_000)[0] == "no_match"  # outside the window
    momo = parse_claim(NOTICES[7][0])
    assert momo is not None and check_claim(store, momo, "C2", None)[:2] == ("verified", "T-ugx")
    fake = parse_claim(NOTICES[0][0].replace("5,000.00", "5,500.00"))
    assert fake is not None
    status, _, reasons = check_claim(store, fake, "C1", T0)
    assert status == "no_match" and reasons[0].startswith("no such incoming transaction")


class _FixedModel:
    """Stands in for the text model so these tests isolate the claim and format rules."""

    scam_threshold, suspicious_threshold, version = 0.5, 0.2, "fixed"

    def __init__(self, score: float) -> None:
        self.value = score

    def proba(self, norm: Sequence[str], cues: np.ndarray | None = None) -> np.ndarray:
        return np.tile([1.0 - self.value, 0.0, self.value], (len(norm), 1))

    def top_terms(self, norm: str, k: int = 3) -> list[str]:
        return []


def test_claim_rules_set_the_verdict(store: Store, settings: Settings) -> None:
    _ledger(store, [("SA32AB34CD", T0, "C0712345678", "C1", 500000, "KES")])
    text = NOTICES[0][0]
    shield = Shield(_FixedModel(0.05), settings)  # type: ignore[arg-type]
    real = shield.check(text, sender="MPESA", to="C1", store=store)
    assert (real.verdict, real.category, real.claim_check.status, real.claim_check.matched_txn_id) == \
        ("genuine", "genuine", "verified", "SA32AB34CD")
    assert real.notification is not None and real.notification.consistent and real.notification.kind == "received"
    # the same notice with the amount changed (balance still covers it): the ledger has no such payment
    forged = shield.check(text.replace("5,000.00", "5,500.00"), sender="MPESA", to="C1", store=store)
    assert forged.verdict == "scam" and forged.scam_type == "reversal" and forged.category == "scam"
    assert any(r.startswith("no such incoming transaction") for r in forged.reasons)
    spoofed = shield.check(text, sender="0799111222", to="C1", store=store)
    assert spoofed.verdict == "suspicious" and spoofed.claim_check.sender_is_operator is False
    assert any("personal phone number" in r for r in spoofed.reasons)
    unchecked = shield.check(text, sender="0799111222")
    assert unchecked.verdict == "suspicious" and unchecked.claim_check.status == "not_checked"
    plea = shield.check(text + " Sorry I sent to the wrong number, please reverse it", sender="MPESA")
    assert (plea.verdict, plea.scam_type, plea.category) == ("scam", "reversal", "scam")
    assert any("asks for the money back" in r for r in plea.reasons)
    plain = shield.check("See you at church tomorrow", sender="0799111222", to="C1", store=store)
    assert plain.verdict == "genuine" and plain.claim_check.status == "not_a_claim" and plain.notification is None


def test_a_consistent_notification_is_genuine_whatever_the_model_or_sender_id_says(settings: Settings) -> None:
    worried = Shield(_FixedModel(0.97), settings)  # type: ignore[arg-type]
    text = ("SENT UGX 105,000 to NAME 07XXXXXXXX. Fee UGX 1,500. Bal UGX 20,000. Trans ID 12345678901")
    for sender in (None, "AirtelMoney", "AIRTEL"):
        r = worried.check(text, sender=sender)
        assert (r.verdict, r.category) == ("genuine", "genuine"), sender
        assert r.notification is not None and r.notification.operator == "airtel_ug"
        assert r.reasons[0].startswith("matches the Airtel Money Uganda notification format")
    scam = worried.check(text + ". Please send it back, call 0772123456")
    assert (scam.verdict, scam.category) == ("scam", "scam") and scam.notification is not None
    assert not scam.notification.consistent and len(scam.notification.problems) == 2
    lookalike = Shield(_FixedModel(0.01), settings).check(text, sender="AirteIMoney")  # capital I for l
    assert lookalike.verdict == "scam" and any("imitates an operator" in r for r in lookalike.reasons)


def test_saved_sms_are_redacted_idempotent_and_become_events(store: Store, settings: Settings,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    shield = Shield(_FixedModel(0.97), settings)  # type: ignore[arg-type]
    text = "Habari AMINA JUMA, nimekosea kutuma pesa kwako kutoka kwa BARAKA MOSHI, nirudishie kwa 0712345678"
    with caplog.at_level(logging.DEBUG):
        result = shield.check(text, sender="+254799000111", to="C7", received_ms=T0, store=store)
        assert record(store, shield, result, text, sender="+254799000111", to="C7", received_ms=T0)
        assert not record(store, shield, result, text, sender="+254799000111", to="C7", received_ms=T0)
    assert result.verdict == "scam" and result.scam_type == "reversal"
    for secret in ("0712345678", "BARAKA", "MOSHI", "254799000111", "nimekosea"):
        assert secret not in caplog.text
    saved = sms_store.load_sms(store)
    assert len(saved) == 1
    row = saved.iloc[0]
    assert "0712345678" not in row["text_redacted"] and "BARAKA" not in row["text_redacted"]
    assert "254799000111" not in row["sender"]
    assert row["verdict"] == "scam" and row["model_version"] == "fixed" and row["reasons"] == result.reasons
    shield.check("Tutaonana kesho", to="C8", received_ms=T0 + 5)  # genuine: not an event
    events = sms_store.scam_sms_events(store, T0 - 1, T0 + 1)
    assert list(events.columns) == ["account_id", "ts_ms", "scam_type", "score"]
    assert events.to_dict("records") == [{"account_id": "C7", "ts_ms": T0, "scam_type": "reversal",
                                          "score": pytest.approx(0.97)}]
    assert row["category"] == "scam"
    assert sms_store.scam_sms_events(store, T0 + 1, None).empty


def test_claimed_time_zone_is_configurable(tmp_path: Path) -> None:
    f = tmp_path / "f.yaml"
    f.write_text("formats:\n  - name: utc_bank\n    utc_offset_hours: 0\n"
                 "    pattern: 'Received {cur} {amount} on {date} at {time}'\n")
    claim = parse_claim("Received KES 10 on 2024-01-03 at 11:15", load_formats(f))
    assert claim is not None and claim.sent_ms == int(datetime(2024, 1, 3, 11, 15, tzinfo=UTC).timestamp() * 1000)
