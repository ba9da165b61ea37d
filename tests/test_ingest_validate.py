"""The per-column validators: exact money, every time format, labels, and one reason per bad row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pesaguard.ingest import validate_transactions
from pesaguard.ingest.transactions import ContentIds
from pesaguard.ingest.validate import (
    canonical_type,
    merge_errors,
    parse_amount,
    parse_currency,
    parse_label,
    parse_text,
    parse_time,
    parse_whole,
)


def test_amounts_are_exact_minor_units() -> None:
    c = parse_amount(["0.01", "9839.64", "+5", ".5", "5.", "1.230", "00012.10", "92233720368547.75"], "amount")
    assert c.values.to_pylist() == [1, 983964, 500, 50, 500, 123, 1210, 9223372036854775]
    assert c.errors == {}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("abc", "amount 'abc' is not a number"),
        ("1e", "amount '1e' is not a number"),
        ("1,00.00", "amount '1,00.00' is not a number"),
        ("1,5", "amount '1,5' is not a number (with a decimal comma, give --decimal ,)"),
        ("1.234", "amount '1.234' has more than 2 decimals (a finer amount, not a float artefact: "
                  "--round half-even rounds it)"),
        ("12345678901234567", "amount '12345678901234567' is too large"),
        ("1e400", "amount '1e400' is too large"),
        ("nan", "amount 'nan' is not a number"),
        ("USD 5", "amount 'USD 5' is in USD but the row's currency is KES"),
        ("0", "amount must be > 0"),
        ("-3.10", "amount must be > 0"),
        ("", "amount is empty"),
        ("  ", "amount is empty"),
    ],
)
def test_bad_amounts_have_a_reason(raw: str, reason: str) -> None:
    c = parse_amount(["1.00", raw], "amount", currency="KES")
    assert c.errors == {1: reason}
    assert c.values.to_pylist() == [100, None]


@given(st.integers(min_value=1, max_value=10**17))
def test_amount_roundtrip_is_exact(minor: int) -> None:
    text = f"{minor // 100}.{minor % 100:02d}"
    assert parse_amount([text], "amount").values.to_pylist() == [minor]


def test_minor_unit_amounts_and_balances() -> None:
    c = parse_amount(["1250", "1250.0", "12.5"], "amount", unit="minor")
    assert c.values.to_pylist() == [1250, 1250, None]
    assert c.errors == {2: "amount '12.5' is not a whole number of minor units"}
    b = parse_amount(["-3.10", "", "0"], "balance", minimum=None, required=False)
    assert b.values.to_pylist() == [-310, None, 0] and b.errors == {}
    fee = parse_amount(["-1", "0"], "fee", minimum=0)
    assert fee.errors == {0: "fee must be >= 0"}


def test_typed_float_amounts_are_exact_and_artefacts_snap() -> None:
    c = parse_amount(pa.array([9839.64, 0.1 + 0.2, 3.0, 18.08 * 5, 1.005, 1.0588885270000001e7]), "amount")
    assert c.values.to_pylist() == [983964, 30, 300, 9040, None, 1058888527]
    assert c.adjusted == {1: "snapped", 3: "snapped", 5: "snapped"}
    assert set(c.errors) == {4}


def test_times_iso_epoch_and_errors() -> None:
    c = parse_time(
        ["2024-01-01T00:00:00Z", "2024-01-01 03:00:00+03:00", "2024-01-01", "2024-01-01T00:00:00.250",
         "1704067200", "1704067200000", "1704067200.5", "2024-13-01", "", "yesterday", "-5"],
        "time",
    )
    t0 = 1_704_067_200_000
    assert c.values.to_pylist()[:7] == [t0, t0, t0, t0 + 250, t0, t0, t0 + 500]
    assert c.errors == {
        7: "time '2024-13-01' is not a date",
        8: "time is empty",
        9: "time 'yesterday' is not a date",
        10: "time '-5' is before 1970",
    }


def test_time_units_can_be_forced() -> None:
    assert parse_time(["1704067200000"], "t", unit="ms").values.to_pylist() == [1_704_067_200_000]
    assert parse_time(["1000"], "t", unit="s").values.to_pylist() == [1_000_000]
    assert parse_time(["1000"], "t", unit="ms").values.to_pylist() == [1000]


def test_typed_timestamps_are_used_directly() -> None:
    ts = pa.array(pd.to_datetime(["2024-01-01T00:00:01Z"]))
    assert parse_time(ts, "t").values.to_pylist() == [1_704_067_201_000]


def test_labels_text_whole_numbers_currency_types() -> None:
    lab = parse_label(["1", "0", "TRUE", "false", "Fraud", "legit", "legitimate", "", "maybe"], "label")
    assert lab.values.to_pylist() == [1, 0, 1, 0, 1, 0, 0, None, None]
    assert lab.errors == {8: "label 'maybe' is not one of 1/0/true/false/fraud/legit"}
    txt = parse_text([" C1 ", "", "x" * 129], "payer")
    assert txt.values.to_pylist() == ["C1", None, None]
    assert txt.errors == {1: "payer is empty", 2: "payer is longer than 128 characters"}
    step = parse_whole(["0", "743", "1.5", "-1"], "step")
    assert step.values.to_pylist() == [0, 743, None, None]
    assert set(step.errors) == {2, 3} and step.errors[2] == "step '1.5' is not a whole number"
    cur = parse_currency(["kes", "", "KSHS"], "KES")
    assert cur.values.to_pylist() == ["KES", "KES", None] and 2 in cur.errors
    assert canonical_type(["CASH_IN", "CASH_OUT", "TRANSFER", "PAYMENT", "DEBIT", "Airtime"]).to_pylist() == [
        "cash_in", "cash_out", "p2p", "merchant", "debit", "airtime"]


def test_merge_errors_keeps_the_first_field_and_every_reason() -> None:
    a = parse_text(["", "x"], "payer")
    b = parse_amount(["abc", "1"], "amount")
    assert merge_errors([("payer", a), ("amount", b)]) == {
        0: ("payer", "payer is empty; amount 'abc' is not a number")}


def test_validate_transactions_on_a_dataframe_with_a_map() -> None:
    df = pd.DataFrame({"ref": ["a", "b", "c"], "when": ["1704067200", "1704067200", "x"], "from": ["p", "", "p"],
                       "to": ["q", "q", "q"], "amt": [1.5, 2.0, 3.0]})
    valid, bad = validate_transactions(df, {"id": "ref", "time": "when", "payer": "from", "payee": "to",
                                            "amount": "amt"})
    assert valid["txn_id"].tolist() == ["a"] and valid["amount_minor"].tolist() == [150]
    assert valid["ts_ms"].tolist() == [1_704_067_200_000] and valid["currency"].tolist() == ["KES"]
    assert bad == [(1, "from", "from is empty"), (2, "when", "time 'x' is not a date".replace("time", "when"))]


def test_content_ids_give_identical_rows_distinct_stable_ids_across_chunks() -> None:
    rows = [b"a", b"b", b"a", b"c", b"a"]
    whole = ContentIds().ids(rows, [1] * 5)
    chunked = ContentIds()
    parts = chunked.ids(rows[:2], [1, 1]) + chunked.ids(rows[2:4], [1, 1]) + chunked.ids(rows[4:], [1])
    assert whole == parts
    assert len(set(whole)) == 5


def test_inspect_types_a_column_by_what_most_values_are_and_prefers_exact_readings() -> None:
    from pesaguard.ingest.inspect import profile_column

    amounts = profile_column("amount", pa.array(["2116.74", "24963.899999999998", "1.234"] + ["5.10"] * 17))
    assert (amounts.kind, amounts.detail) == ("amount", "1 float artefacts in the sample, 1 finer than the minor unit")
    times = profile_column("t", pa.array(["2024-03-01T12:00:00+03:00", "2024-03-01 12:00", "1709283600000"] * 4
                                         + ["yesterday"]))
    assert times.kind == "datetime"
    comma = profile_column("amount", pa.array(["1.234", "2.500", "12.345", "7"]))  # thousands points, not cents
    assert (comma.kind, comma.detail) == ("amount", "decimal comma (--decimal ,)")
    junk = profile_column("note", pa.array(["paid", "1.5", "2024-01-01", "x"]))
    assert junk.kind == "text"
    fractional = profile_column("when", pa.array(["1704067200.5", "1704067260.25", "1704067320"]))
    assert (fractional.kind, fractional.detail) == ("epoch", "epoch seconds")


def test_column_names_and_options_with_braces_are_shown_not_formatted(tmp_path: Path) -> None:
    from pesaguard.ingest import inspect_file

    assert parse_time(["x"], "when {}").errors == {0: "when {} 'x' is not a date"}
    assert parse_time(["x"], "t}", time_format="%d {0}").errors == {0: "t} 'x' does not match --time-format '%d {0}'"}
    assert parse_label(["maybe"], "{label").errors == {0: "{label 'maybe' is not one of 1/0/true/false/fraud/legit"}
    path = tmp_path / "braces.csv"
    path.write_text("id,time},payer{,payee,amount\nB1,soon,A,B,1\nB2,2024-01-01,A,B,2\n")
    assert inspect_file(path).columns[1].name == "time}"
