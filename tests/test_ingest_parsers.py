"""Property tests for every parser: any valid representation of a value parses to that exact value,
and any text at all gets a value or a reason, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pesaguard.errors import UsageError
from pesaguard.ingest.validate import (
    LABEL_FALSE,
    LABEL_TRUE,
    parse_amount,
    parse_currency,
    parse_label,
    parse_text,
    parse_time,
    parse_whole,
    rule_of,
)

CENTS = st.integers(min_value=1, max_value=10**15)
ZONES = ["UTC", "Africa/Nairobi", "Asia/Kolkata", "America/New_York", "Europe/London"]
MS = st.integers(min_value=0, max_value=4_102_444_800_000)  # 1970 .. 2100


def _major(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _grouped(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])


@st.composite
def amount_text(draw: st.DrawFn, cents: int) -> tuple[str, str, str]:
    """(text, decimal mark, row currency) for an amount of ``cents``, in one of the ways files write it."""
    whole, frac = str(cents // 100), f"{cents % 100:02d}"
    form = draw(st.sampled_from(["plain", "short", "zeros", "grouped", "comma", "sci", "currency", "suffix",
                                 "slash", "symbol"]))
    decimal, currency = ".", "KES"
    if form == "plain":
        text = f"{whole}.{frac}"
    elif form == "short":
        text = f"{whole}.{frac}".rstrip("0").rstrip(".")
    elif form == "zeros":
        text = f"{whole}.{frac}000"
    elif form == "grouped":
        text = f"{_grouped(whole, draw(st.sampled_from([',', ' ', chr(0xA0), chr(0x202F), chr(39)])))}.{frac}"
    elif form == "comma":
        decimal = ","
        text = f"{_grouped(whole, draw(st.sampled_from(['.', ' ', ''])))},{frac}"
    elif form == "sci":
        d = Decimal(cents).scaleb(-2)
        exp = draw(st.integers(min_value=-3, max_value=3))
        mantissa = d.scaleb(-exp)
        text = f"{mantissa:f}{draw(st.sampled_from(['E', 'e']))}{exp:+d}"
    elif form == "currency":
        text = f"{draw(st.sampled_from(['KES ', 'KES', 'Ksh ', 'KSh', 'KShs. ', 'kes ']))}{_grouped(whole, ',')}.{frac}"
    elif form == "suffix":
        text = f"{whole}.{frac} {draw(st.sampled_from(['KES', 'Ksh', 'kes']))}"
    elif form == "slash":
        text = f"{_grouped(whole, ',')}.{frac}/="
    else:
        currency = "USD"
        text = f"${_grouped(whole, ',')}.{frac}"
    pad = draw(st.sampled_from(["", " ", "  ", "\t", chr(0xA0)]))
    return f"{pad}{text}{pad}", decimal, currency


@given(st.data(), CENTS)
def test_any_representation_of_an_amount_parses_to_the_exact_value(data: st.DataObject, cents: int) -> None:
    text, decimal, currency = data.draw(amount_text(cents))
    c = parse_amount([text], "amount", decimal=decimal, currency=currency)
    assert c.errors == {}, text
    assert c.values.to_pylist() == [cents], text
    assert c.adjusted == {}


@given(CENTS, st.sampled_from(["-", "- ", "-KES ", "KES -"]))
@settings(max_examples=30)
def test_negative_balances_keep_their_sign(cents: int, sign: str) -> None:
    c = parse_amount([f"{sign}{_major(cents)}"], "balance", minimum=None, currency="KES")
    assert c.values.to_pylist() == [-cents]


@given(st.integers(min_value=1, max_value=10**11), st.integers(min_value=1, max_value=10**11),
       st.integers(min_value=2, max_value=9), st.sampled_from(["mul", "add", "add3"]))
def test_binary_float_artefacts_snap_to_the_exact_amount(a: int, b: int, k: int, op: str) -> None:
    # what pandas or any float pipeline writes: the shortest repr of a double computed from cent amounts
    x, y = a / 100, b / 100
    if op == "mul":
        value, cents = x * k, a * k
    elif op == "add":
        value, cents = x + y, a + b
    else:
        value, cents = x + y + x, 2 * a + b
    c = parse_amount([repr(value)], "amount")
    assert c.values.to_pylist() == [cents], repr(value)
    assert c.adjusted in ({}, {0: "snapped"})


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=9),
       st.integers(min_value=1, max_value=3))
@settings(max_examples=50)
def test_finer_amounts_are_quarantined_or_rounded_half_even(cents: int, digit: int, more: int) -> None:
    text = f"{_major(cents)}{'0' * (more - 1)}{digit}"  # a third (or later) decimal that is not zero
    strict = parse_amount([text], "amount", minimum=None)
    assert strict.values.to_pylist() == [None]
    assert "has more than 2 decimals" in strict.errors[0]
    rounded = parse_amount([text], "amount", minimum=None, rounding="half-even")
    expected = int(Decimal(text).scaleb(2).to_integral_value(ROUND_HALF_EVEN))
    assert rounded.values.to_pylist() == [expected] and rounded.adjusted == {0: "rounded"}


@given(st.lists(st.text(max_size=30), min_size=1, max_size=20))
@settings(max_examples=30)
def test_any_text_gets_a_value_or_a_reason_from_every_parser(texts: list[str]) -> None:
    for checked in (parse_amount(texts, "amount", minimum=None, required=False),
                    parse_amount(texts, "amount", decimal=","),
                    parse_time(texts, "time", required=False),
                    parse_time(texts, "time", time_format="%d/%m/%Y"),
                    parse_label(texts, "label"),
                    parse_text(texts, "payer", required=False),
                    parse_whole(texts, "step"),
                    parse_currency(texts, "KES")):
        values = checked.values.to_pylist()
        assert len(values) == len(texts)
        for i, v in enumerate(values):
            assert (v is None) or (i not in checked.errors)  # a value and a reason never both
        for i in checked.errors:
            assert values[i] is None and checked.errors[i]


def _offset(dt: datetime) -> str:
    off = dt.utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    minutes = abs(int(off.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@given(MS, st.sampled_from(ZONES), st.sampled_from(["z", "offset", "naive", "epoch_s", "epoch_ms", "epoch_us",
                                                    "format", "space"]))
@settings(max_examples=100)
def test_any_representation_of_a_time_parses_to_the_exact_instant(ms: int, tz: str, form: str) -> None:
    utc = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    local = utc.astimezone(ZoneInfo(tz))
    frac = f".{ms % 1000:03d}" if ms % 1000 else ""
    kwargs: dict[str, str] = {"tz": tz}
    if form in ("epoch_s", "format"):
        assume(ms % 1000 == 0)
    if form == "z":
        text = utc.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
    elif form == "offset":
        text = local.strftime("%Y-%m-%dT%H:%M:%S") + frac + _offset(local)
    elif form in ("naive", "space", "format"):
        ambiguous = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
        if form == "format":
            text = local.strftime("%d/%m/%Y %H:%M:%S")
            kwargs["time_format"] = "%d/%m/%Y %H:%M:%S"
        else:
            text = local.strftime("%Y-%m-%dT%H:%M:%S" if form == "naive" else "%Y-%m-%d %H:%M:%S") + frac
        if ambiguous:  # a wall-clock time a DST change repeats: a reason, not a guess
            c = parse_time([text], "time", **kwargs)  # type: ignore[arg-type]
            assert c.values.to_pylist() == [None] and "daylight-saving" in c.errors[0]
            return
    elif form == "epoch_s":
        text = str(ms // 1000)
    elif form == "epoch_ms":
        text = str(ms)
        assume(ms >= 10**11)  # below 1e11 a number is read as seconds (before 1973 in ms)
    else:
        text = str(ms * 1000)
        assume(ms * 1000 >= 10**14)
    c = parse_time([text], "time", **kwargs)  # type: ignore[arg-type]
    assert c.errors == {}, text
    assert c.values.to_pylist() == [ms], text


def test_epoch_units_are_detected_by_magnitude() -> None:
    t0 = 1_704_067_200_000
    c = parse_time(["1704067200", "1704067200000", "1704067200000000", "1704067200000000000", "1.7040672e9"], "t")
    assert c.values.to_pylist() == [t0] * 5


def test_a_bad_time_zone_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="Africa/Nairobi"):
        parse_time(["2024-01-01"], "t", tz="Nairobi")


def test_typed_naive_timestamps_are_in_the_given_zone() -> None:
    naive = pa.array([datetime(2024, 1, 1, 3, 0)], pa.timestamp("ms"))
    assert parse_time(naive, "t", tz="Africa/Nairobi").values.to_pylist() == [1_704_067_200_000]
    assert parse_time(naive, "t").values.to_pylist() == [1_704_067_200_000 + 3 * 3_600_000]


@given(st.sampled_from(LABEL_TRUE + LABEL_FALSE), st.sampled_from([str.lower, str.upper, str.title]),
       st.sampled_from(["", " ", "\t"]))
def test_any_spelling_of_a_label_parses(word: str, case: object, pad: str) -> None:
    text = pad + case(word) + pad  # type: ignore[operator]
    assert parse_label([text], "label").values.to_pylist() == [1 if word in LABEL_TRUE else 0]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1,
               max_size=60))
def test_printable_ids_are_kept_as_they_are(text: str) -> None:
    assume(not any(0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in text))
    assume(text.strip() == text)
    assert parse_text([text], "id").values.to_pylist() == [text]


@pytest.mark.parametrize("bad", ["a\nb", "a\tb", "x\u202ey", "\x00", "a\rb"])
def test_ids_with_control_or_bidirectional_characters_are_refused(bad: str) -> None:
    c = parse_text([bad], "payer")
    assert c.values.to_pylist() == [None] and "control or bidirectional" in c.errors[0]


def test_rule_of_strips_values_and_line_numbers() -> None:
    assert rule_of("amount 'abc' is not a number; time is empty") == "amount is not a number"
    assert rule_of("row has an unterminated quote (line 52)") == "row has an unterminated quote"
    assert rule_of("payer \"it's\" holds a control or bidirectional character") == \
        "payer holds a control or bidirectional character"
    assert rule_of("amount 'USD 5' is in USD but the row's currency is KES") == \
        "amount is in USD but the row's currency is KES"


NUMBERISH = st.one_of(
    st.from_regex(r"[+-]?[0-9]{0,19}(\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(["", "0x10", "1,000", "-0", "+.5", "1.e5", "nan", "inf", "00000000000000001.5", "1e400",
                     "9999999999999999.99", "90.39999999999999", "1.0588885275E7", "0"]),
)


def _alone(parse: object, text: str, **kwargs: object) -> tuple[object, str | None, str | None]:
    """(value, reason, adjustment) of ``text`` read beside a value no column-wide fast path reads."""
    c = parse([text, "x"], "f", **kwargs)  # type: ignore[operator]
    return c.values.to_pylist()[0], c.errors.get(0), c.adjusted.get(0)


@given(st.lists(NUMBERISH, min_size=1, max_size=8), st.sampled_from([1, 0, None]), st.booleans())
@settings(max_examples=200, deadline=None)  # one parse per value: slow on a loaded machine
def test_a_column_read_whole_gets_what_each_value_gets_alone(texts: list[str], minimum: int | None,
                                                             required: bool) -> None:
    # a column Arrow casts in one step skips the pattern match; it must not change any outcome
    c = parse_amount(texts, "f", minimum=minimum, required=required)
    for i, text in enumerate(texts):
        assert (c.values.to_pylist()[i], c.errors.get(i), c.adjusted.get(i)) == \
            _alone(parse_amount, text, minimum=minimum, required=required), text
    w = parse_whole(texts, "f")
    for i, text in enumerate(texts):
        assert (w.values.to_pylist()[i], w.errors.get(i), w.adjusted.get(i)) == _alone(parse_whole, text), text


@given(st.lists(st.sampled_from(["1", "0", "TRUE", " fraud ", "Legit", "", "maybe", "1.0", "yes", "No"]),
                min_size=1, max_size=12))
@settings(max_examples=50, deadline=None)
def test_labels_read_per_distinct_value_match_reading_each_alone(texts: list[str]) -> None:
    c = parse_label(texts, "label")
    for i, text in enumerate(texts):
        alone = parse_label([text], "label")
        assert (c.values.to_pylist()[i], c.errors.get(i)) == (alone.values.to_pylist()[0], alone.errors.get(0))
