"""The column-wise policy (``Policy.decide_frame``, what ``pesaguard score`` runs) gives every row the
action, risk, reasons and rules hit that ``Policy.decide`` gives that row as the service's request;
the batch explanation gives every row the reasons the scorer gives it alone."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models_synth import small_bundle, synth
from pesaguard.decisions.batch import _columns, live_record, txn_column
from pesaguard.decisions.policy import Policy
from pesaguard.decisions.rules import Column, parse_rules
from pesaguard.models.scorer import Scorer

#: Conditions over every kind of column and operator, including values and fields of the wrong type
#: (never a hit, never a crash), a feature the frame lacks, and two fields compared.
CONDITIONS = [
    "features.x > 1", "features.x <= 0.5", "features.x == 2", "features.x != 0", "features.x in [1, 2, a]",
    "features.x not_in [0, 3]", "features.x >= features.y", "features.y < features.x", "features.x == features.y",
    "features.y >= 2.5", "features.y in [true, 1]", "features.x in_list L", "features.missing > 0",
    "type == p2p", "type != cash_out", "type in [p2p, merchant, 3]", "type not_in [airtime]", "type < 3",
    "payer in_list L", "payer not_in_list L", "payer == 7", "payer == C1", "payer in [C2, '7']",
    "amount_minor >= 150", "amount_minor < 300", "amount_minor == 200", "amount_minor in [100, 200.0]",
    "amount_minor != 9007199254740993", "fee_minor > 5", "currency == KES", "channel == app",
]
REASONS = ["a fixed reason", "x is {features.x}", "{amount_minor} by {payer} ({type})", "y {features.y}, x {x}"]

_number = st.one_of(st.integers(-3, 400), st.floats(-3, 3, allow_nan=False), st.just(float("nan")), st.just(-0.0))
_rule = st.fixed_dictionaries({
    "when": st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=3),
    "action": st.sampled_from(["allow", "review", "block"]),
    "weight": st.one_of(st.none(), st.floats(0, 1)),
    "reason": st.sampled_from(REASONS),
    "enabled": st.booleans(),
})


@st.composite
def frames(draw: Any) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    n = draw(st.integers(1, 25))
    rows = st.lists
    payer = draw(st.one_of(rows(st.sampled_from(["C1", "C2", "7", None]), min_size=n, max_size=n),
                           rows(st.integers(0, 9), min_size=n, max_size=n),  # an id column of digits
                           rows(st.one_of(st.integers(0, 9), st.none()), min_size=n, max_size=n)))
    txns = pd.DataFrame({
        "txn_id": [f"t{i}" for i in range(n)], "ts_ms": list(range(n)), "payer": payer,
        "payee": ["M"] * n,
        "amount_minor": draw(st.one_of(rows(st.sampled_from([100, 150, 200, 299, 300]), min_size=n, max_size=n),
                                       rows(st.sampled_from([100.0, 200.0, float("nan")]), min_size=n, max_size=n))),
        "type": draw(rows(st.sampled_from(["p2p", "cash_out", "merchant", "airtime", None]), min_size=n, max_size=n)),
    })
    if draw(st.booleans()):
        txns["currency"] = draw(rows(st.sampled_from(["KES", "UGX", None]), min_size=n, max_size=n))
    if draw(st.booleans()):
        txns["fee_minor"] = draw(rows(st.one_of(st.integers(0, 10), st.none()), min_size=n, max_size=n))
    feats = pd.DataFrame({"x": draw(rows(_number, min_size=n, max_size=n)),
                          "y": draw(rows(_number, min_size=n, max_size=n))}, dtype=np.float64)
    p = np.asarray(draw(rows(st.one_of(st.floats(0, 1), st.sampled_from([0.3, 0.8, 0.0, 1.0])),
                             min_size=n, max_size=n)), dtype=np.float64)
    return txns, feats, p


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=frames(), rules=st.lists(_rule, max_size=6), review=st.sampled_from([0.3, 0.5, 0.8]),
       gap=st.sampled_from([0.0, 0.2, 0.5]), mode=st.sampled_from(["supervised", "cold_start"]))
def test_decide_frame_agrees_with_decide_row_by_row(data: tuple[pd.DataFrame, pd.DataFrame, np.ndarray],
                                                    rules: list[dict[str, Any]], review: float, gap: float,
                                                    mode: str) -> None:
    txns, feats, p = data
    doc = {"thresholds": {"review": review, "block": min(1.0, review + gap)}, "lists": {"L": ["C1", "7", "1.0"]},
           "rules": [{"name": f"r{i}", **r} for i, r in enumerate(rules)]}
    policy = Policy(parse_rules(doc), mode=mode)

    def model_reasons(rows: np.ndarray) -> list[list[str]]:
        return [[f"model says {i}"] for i in rows.tolist()]

    out = policy.decide_frame(_columns(policy, txns, feats), p, model_reasons)
    for i, row in enumerate(txns.astype(object).to_dict("records")):
        want = policy.decide(live_record(row), float(p[i]), [f"model says {i}"],
                             dict(zip(feats.columns, feats.iloc[i].tolist(), strict=True)))
        assert out.action[i] == want.action, i
        assert _same(float(out.score[i]), want.score), (i, out.score[i], want.score)
        assert out.reasons.get(i, []) == want.reasons, i
        assert out.rules.get(i, []) == [h["rule"] for h in want.rule_hits], i


@pytest.mark.parametrize("values", [
    pd.Series([1, 2, None], dtype=object), pd.Series([1.0, float("nan")]), pd.Series(["a", 1, 1.0, None], dtype=object),
    pd.Series(pd.array(["a", None], dtype="string")), pd.Series([True, False]),
], ids=["int-objects", "floats-with-nan", "mixed", "string-dtype", "bools"])
def test_a_text_column_holds_what_the_request_holds(values: pd.Series) -> None:
    col = txn_column(values, "payer", len(values))
    assert [col.at(i) for i in range(len(values))] == [live_record({"payer": v})["payer"] for v in values]


def test_an_integer_column_beyond_float_precision_keeps_exact_integers() -> None:
    big = pd.Series([2**60, 2**60 + 1])
    col = txn_column(big, "amount_minor", 2)
    assert col.numbers is None and [col.at(0), col.at(1)] == [2**60, 2**60 + 1]
    assert col.test("==", 2**60 + 1).tolist() == [False, True]
    assert Column.of_numbers(np.array([1.0, np.nan])).test("<", 2).tolist() == [True, False]


def test_batch_reasons_are_the_scorers_own() -> None:
    """explain_frame (the walk split across threads, one ranking of the whole matrix) ranks and words every row
    as the scorer does for that row alone."""
    from pesaguard.models.explain import top_reasons

    scorer = Scorer(small_bundle())
    tx, _ = synth(accounts=60, days=6, seed=3, minimal=True)
    x = scorer.feature_matrix(tx.sort_values("ts_ms", kind="stable").reset_index(drop=True))
    x[::7, 0] = np.nan  # missing values take the default branch
    assert len(x) >= 600  # enough rows for the threaded walk
    batch = scorer.explain_frame(x)
    for i in range(len(x)):
        assert batch[i] == top_reasons(scorer.names, x[i], scorer._contrib(x[i].copy()), scorer.top_k), i
