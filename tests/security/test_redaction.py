"""The redactor against generated personal numbers of the region, however people write them: phone
numbers of Kenya, Uganda, Tanzania and Rwanda (local and international, grouped with spaces, dots,
dashes or brackets), national ID numbers, PINs and payment cards, inside English and Swahili
sentences. No digit of them may survive; amounts, dates and times must.

Also: triage messages are stored redacted, like SMS."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pesaguard.sms.redact import redact

DIGIT = st.sampled_from("0123456789")

# national significant numbers (without the trunk 0) of mobile lines, by country code
MOBILE = {
    "254": st.tuples(st.sampled_from(["7", "1"]), st.text(DIGIT, min_size=8, max_size=8)).map("".join),
    "256": st.tuples(st.sampled_from(["70", "71", "74", "75", "76", "77", "78"]),
                     st.text(DIGIT, min_size=7, max_size=7)).map("".join),
    "255": st.tuples(st.sampled_from(["6", "7"]), st.text(DIGIT, min_size=8, max_size=8)).map("".join),
    "250": st.tuples(st.sampled_from(["72", "73", "78", "79"]), st.text(DIGIT, min_size=7, max_size=7)).map("".join),
}


def _groups(digits: str, sizes: list[int]) -> list[str]:
    out, i = [], 0
    for n in sizes:
        out.append(digits[i:i + n])
        i += n
    if i < len(digits):
        out.append(digits[i:])
    return [g for g in out if g]


@st.composite
def phone(draw: st.DrawFn) -> str:
    cc = draw(st.sampled_from(sorted(MOBILE)))
    nsn = draw(MOBILE[cc])
    sep = draw(st.sampled_from([" ", ".", "-", ""]))
    local = "0" + nsn
    style = draw(st.sampled_from(["local", "local4", "pairs", "intl", "intl0", "bracket", "bare"]))
    if style == "local":  # 0712 345 678, 0712.345.678
        return sep.join(_groups(local, [4, 3, 3]))
    if style == "local4":  # 0712 345678
        return sep.join(_groups(local, [4, 6]))
    if style == "pairs":  # 07-12-345-678
        return sep.join(_groups(local, [2, 2, 3, 3]))
    if style == "intl":  # +254 712 345 678, +254712345678
        return "+" + cc + sep + sep.join(_groups(nsn, [3, 3, 3]))
    if style == "intl0":  # +254 (0) 712 345678
        return f"+{cc} (0) " + " ".join(_groups(nsn, [3, 6]))
    if style == "bracket":  # (+256) 772-123-456
        return f"(+{cc}) " + "-".join(_groups(nsn, [3, 3, 3]))
    return cc + nsn  # 254712345678


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


@st.composite
def card(draw: st.DrawFn) -> str:
    if draw(st.booleans()):  # Visa / Mastercard: 16 digits in fours
        prefix = draw(st.sampled_from(["4", "51", "55"]))
        number = _luhn_complete(prefix + draw(st.text(DIGIT, min_size=15 - len(prefix), max_size=15 - len(prefix))))
        return draw(st.sampled_from([" ", "-", ""])).join(_groups(number, [4, 4, 4, 4]))
    number = _luhn_complete("37" + draw(st.text(DIGIT, min_size=12, max_size=12)))  # Amex: 15, 4-6-5
    return draw(st.sampled_from([" ", ""])).join(_groups(number, [4, 6, 5]))


@st.composite
def national_id(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["ke", "ug", "tz", "rw"]))
    if kind == "ke":
        number = draw(st.text(DIGIT, min_size=7, max_size=8))
        lead = draw(st.sampled_from(["ID ", "ID no. ", "ID number: ", "national ID ", "kitambulisho changu ni ",
                                     "namba ya kitambulisho ", "my ID is "]))
        return lead + number
    if kind == "ug":  # NIN: CM or CF, 8 digits, 4 letters
        letters = draw(st.text(st.sampled_from("ABCDEFGHJKLMNPRSTUVWXYZ"), min_size=4, max_size=4))
        nin = draw(st.sampled_from(["CM", "CF"])) + draw(st.text(DIGIT, min_size=8, max_size=8)) + letters
        return draw(st.sampled_from(["NIN ", "my NIN is ", ""])) + nin
    if kind == "tz":  # NIDA: 20 digits, 8-5-5-2
        digits = draw(st.text(DIGIT, min_size=20, max_size=20))
        return draw(st.sampled_from(["NIDA ", "namba ya NIDA ni "])) + "-".join(_groups(digits, [8, 5, 5, 2]))
    digits = draw(st.text(DIGIT, min_size=16, max_size=16))  # Rwanda: 16 digits, 1 4 1 7 1 2
    return draw(st.sampled_from(["ID ", "indangamuntu ID "])) + " ".join(_groups(digits, [1, 4, 1, 7, 1, 2]))


@st.composite
def pin(draw: st.DrawFn) -> str:
    digits = draw(st.text(DIGIT, min_size=4, max_size=6))
    return draw(st.sampled_from(["PIN yangu ni ", "my PIN is ", "PIN: ", "pin ", "namba ya siri ", "M-PESA PIN ",
                                 "siri yangu ni "])) + digits


BEFORE = st.sampled_from(["Nipigie", "call me on", "tuma kwa", "my details:", "Habari, hii ni", "", "send to",
                          "Tafadhali nisaidie,"])
AFTER = st.sampled_from(["asap", "sasa hivi", "thanks", "", "haraka tafadhali", "then call back"])
PUNCT = st.sampled_from(["", ".", ",", "!", ")", "?"])


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(secret=st.one_of(phone(), card(), national_id(), pin()), before=BEFORE, after=AFTER, punct=PUNCT)
def test_no_digit_of_a_personal_number_survives(secret: str, before: str, after: str, punct: str) -> None:
    message = f"{before} {secret}{punct} {after}".strip()
    out = redact(message)
    assert not any(c.isdigit() for c in out), (message, out)
    assert out.replace(" ", "").strip(".,!)?") != ""


KEEP = st.sampled_from(["Ksh 1,250.00", "KES 500", "TSh 20,000", "UGX 50,000", "RWF 3,000", "Ksh5,000.00",
                        "on 03/01/2024", "on 2024-01-03", "3/1/24", "at 10:45 AM", "2:15 PM", "3 items",
                        "siku 7", "balance Ksh 12,430.50", "fee Ksh 33", "03.01.2024", "mara 2"])


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(parts=st.lists(KEEP, min_size=1, max_size=4))
def test_amounts_dates_and_times_stay_readable(parts: list[str]) -> None:
    message = "Confirmed. " + " ".join(parts) + " kwa huduma"
    assert redact(message) == message


def test_triage_messages_are_stored_redacted(tmp_path: Path) -> None:
    from pesaguard.assistant.triage_model import triage
    from pesaguard.config import Settings
    from pesaguard.store import Store
    from pesaguard.store.assistant import get_triage_message

    settings = Settings(home=tmp_path / "home")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    text = ("Nimetapeliwa! Walichukua elfu ishirini, PIN yangu ni 4321 na kitambulisho 23456789, "
            "nipigie 0712.345.678 haraka sana tafadhali")
    result = triage(text, message_id="m-1", settings=settings, store=store)
    assert result.urgency == "urgent" and result.case_opened
    stored = get_triage_message(store, "m-1")
    assert stored is not None
    for secret in ("4321", "23456789", "0712", "345.678"):
        assert secret not in stored["text"], stored["text"]
    assert "<pin>" in stored["text"] and "<phone>" in stored["text"]
    store.close()


def test_a_message_id_reused_for_another_text_is_a_conflict(tmp_path: Path) -> None:
    import pytest

    from pesaguard.assistant.triage_model import triage
    from pesaguard.config import Settings
    from pesaguard.errors import ConflictError
    from pesaguard.store import Store
    from pesaguard.store.sms import save_checked_sms

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    sms = {"ts_ms": 1, "sender": "MPESA", "recipient": "C1", "text_hash": "h", "verdict": "genuine", "score": 0.1,
           "scam_type": None, "model_version": "m", "reasons": [], "claim_status": "not_a_claim"}
    assert save_checked_sms(store, msg_id="s1", text_redacted="You have received Ksh 50", **sms)
    assert not save_checked_sms(store, msg_id="s1", text_redacted="You have received Ksh 50", **sms)  # a retry
    with pytest.raises(ConflictError) as err:
        save_checked_sms(store, msg_id="s1", text_redacted="You have received Ksh 5,000", **sms)
    assert err.value.http_status == 409 and err.value.field == "msg_id"
    settings = Settings(home=tmp_path / "home")
    urgent = "Nimetapeliwa! Wamechukua pesa zangu zote, nisaidieni haraka sana tafadhali"
    assert triage(urgent, message_id="m-1", settings=settings, store=store).case_opened
    assert not triage(urgent, message_id="m-1", settings=settings, store=store).case_opened
    with pytest.raises(ConflictError):
        triage(urgent + " leo", message_id="m-1", settings=settings, store=store)
    store.close()
