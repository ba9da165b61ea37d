"""The published card-fraud protocol (Fraud Detection Handbook), checked against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pesaguard.models.handbook import handbook_metrics, kept_rows, known_fraud_payers

D = 86_400_000
H = 3_600_000


def two_days() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Day 0: A 0.9 fraud, B 0.8, C 0.3 fraud, D 0.1 (D's fraud known before the day).
    Day 1: A 0.95 fraud, B 0.7, C 0.6 fraud (C's earlier fraud known an hour into the day), E 0.2."""
    test = pd.DataFrame({
        "ts_ms": [10 * H, 11 * H, 12 * H, 13 * H, D + 9 * H, D + 10 * H, D + 11 * H, D + 12 * H],
        "payer": ["A", "B", "C", "D", "A", "B", "C", "E"],
        "is_fraud": [1, 0, 1, 0, 1, 0, 1, 0],
    })
    scores = np.array([0.9, 0.8, 0.3, 0.1, 0.95, 0.7, 0.6, 0.2])
    known = pd.DataFrame({"payer": ["D", "C"], "known_at_ms": [-1, D + H]})
    return test, scores, known


def test_hand_computed_two_days() -> None:
    test, scores, known = two_days()
    r = handbook_metrics(test, scores, known, k=2)
    # D leaves day 0 (fraud known before it); C stays on day 1 (known only after the day began).
    assert kept_rows(test, known).tolist() == [True, True, True, False, True, True, True, True]
    assert (r["test_rows"], r["test_frauds"], r["dropped_rows"], r["dropped_frauds"]) == (7, 4, 1, 0)
    # Ranked: A.95+ A.9+ B.8 B.7 C.6+ C.3+ E.2 -> precision at each fraud 1, 1, 3/5, 4/6.
    assert r["average_precision"] == pytest.approx((1 + 1 + 3 / 5 + 4 / 6) / 4)
    # Frauds above genuine in 8 of the 12 pairs.
    assert r["roc_auc"] == pytest.approx(8 / 12)
    # Day 0: top 2 cards A, B -> 1 hit; A is found. Day 1 without A: B, C -> 1 hit.
    assert r["card_precision_at_2_per_day"] == [0.5, 0.5]
    assert r["card_precision_at_2"] == 0.5
    # A perfect ranking finds A and C on day 0 (2 of 2) and has no fraud card left on day 1.
    assert r["card_precision_at_2_ceiling"] == 0.5
    assert r["fraud_payers_per_day"] == [2, 0]


def test_a_card_is_ranked_by_its_highest_score_of_the_day() -> None:
    test = pd.DataFrame({"ts_ms": [0, 1, 2, 3], "payer": ["A", "A", "B", "C"], "is_fraud": [0, 1, 0, 0]})
    r = handbook_metrics(test, np.array([0.1, 0.99, 0.5, 0.4]), None, k=1)
    assert r["card_precision_at_1"] == 1.0  # A's fraud scored 0.99: A tops the day


def test_known_payers_count_frauds_from_the_given_start_and_by_when_known() -> None:
    txns = pd.DataFrame({"txn_id": ["x", "y", "z"], "payer": ["A", "A", "B"], "ts_ms": [0, 10 * D, 10 * D]})
    labels = pd.DataFrame({"txn_id": ["x", "y", "z", "z"], "is_fraud": [1, 1, 0, 1],
                           "known_at_ms": [7 * D, 17 * D, 12 * D, 17 * D + 5]})
    known = known_fraud_payers(txns, labels, since_ms=5 * D).set_index("payer")["known_at_ms"].to_dict()
    assert known == {"A": 17 * D, "B": 17 * D + 5}  # x was made before the start; z's genuine label ignored
    assert known_fraud_payers(txns, labels, None).set_index("payer")["known_at_ms"].to_dict()["A"] == 7 * D
