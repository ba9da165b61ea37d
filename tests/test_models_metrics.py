"""Metrics and the delay-aware protocol, on hand-built data whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pesaguard.models import metrics as mt
from pesaguard.models.protocol import Window, known_labels, prequential_folds, targets

DAY = mt.DAY_MS


def _test_frame() -> pd.DataFrame:
    # Day 0: A (fraud), B, C. Day 1: A again (fraud), B (fraud), C.
    return pd.DataFrame({
        "txn_id": ["1", "2", "3", "4", "5", "6"],
        "ts_ms": [10, 20, 30, DAY + 10, DAY + 20, DAY + 30],
        "payer": ["A", "B", "C", "A", "B", "C"],
        "amount_minor": [100, 200, 300, 400, 500, 600],
        "is_fraud": [1, 0, 0, 1, 1, 0],
    })


def test_account_precision_at_k_ranks_accounts_and_drops_detected_ones() -> None:
    test = _test_frame()
    scores = np.array([0.9, 0.1, 0.2, 0.9, 0.3, 0.8])
    mean, per_day = mt.account_precision_at_k(test, scores, k=1)
    # Day 0: top account A is a fraud -> 1.0; A is then known, so day 1 ranks C (0.8) over B (0.3) -> 0.
    assert [d["precision"] for d in per_day] == [1.0, 0.0]
    assert mean == 0.5


def test_account_precision_excludes_accounts_with_fraud_known_before_the_day() -> None:
    test = _test_frame()
    scores = np.array([0.1, 0.2, 0.3, 0.1, 0.9, 0.2])
    known = pd.DataFrame({"payer": ["B"], "known_at_ms": [DAY - 1]})  # known before day 1 starts
    _, per_day = mt.account_precision_at_k(test, scores, k=1, known_fraud=known)
    assert per_day[1]["precision"] == 0.0  # B left the ranking; C (0.2) leads and is genuine
    _, per_day = mt.account_precision_at_k(test, scores, k=1)
    assert per_day[1]["precision"] == 1.0


def test_recall_at_budget_counts_fraud_within_the_daily_top() -> None:
    test = _test_frame()
    scores = np.array([0.9, 0.1, 0.2, 0.1, 0.9, 0.8])
    r = mt.recall_at_daily_budget(test, scores, budget=1)
    assert r["account_recall_at_budget"] == pytest.approx(2 / 3)  # A on day 0, B on day 1; A on day 1 missed
    assert r["transaction_recall_at_budget"] == pytest.approx(2 / 3)


def test_thresholds_and_money() -> None:
    y = np.array([0] * 90 + [1] * 10)
    s = np.concatenate([np.linspace(0, 0.5, 90), np.linspace(0.6, 1.0, 10)])
    th = mt.choose_thresholds(y, s, review_rate=0.2, block_precision=0.95)
    assert th.block >= th.review
    assert th.block == pytest.approx(0.6)  # adding 0.5 would drop precision to 10/11
    test = pd.DataFrame({"amount_minor": np.full(100, 10), "is_fraud": y})
    money = mt.money_at_thresholds(test, s, th)
    assert money["blocked_fraud_amount_minor"] == 100
    assert money["missed_fraud_amount_minor"] == 0
    assert money["blocked_genuine_count"] == 0


def test_typology_recall_only_with_a_typology_column() -> None:
    test = _test_frame()
    s = np.array([0.9, 0.1, 0.2, 0.1, 0.9, 0.8])
    assert mt.typology_recall(test, s, 0.5) == {}
    test["typology"] = ["ato", None, None, "ato", "mule", None]
    r = mt.typology_recall(test, s, 0.5)
    assert r["ato"]["recall"] == 0.5 and r["mule"]["recall"] == 1.0


def test_labels_are_used_only_once_known() -> None:
    labels = pd.DataFrame({"txn_id": ["a", "b", "b"], "is_fraud": [1, 1, 0], "known_at_ms": [100, 50, 200]})
    assert known_labels(labels, 60).to_dict() == {"b": 1}
    assert known_labels(labels, None).to_dict() == {"a": 1, "b": 0}  # the latest event wins
    ids = pd.Series(["a", "b", "c"])
    assert targets(ids, labels, 150).tolist() == [1, 1, 0]
    assert targets(ids, labels, 100).tolist() == [0, 1, 0]  # strictly before the cutoff


def test_prequential_folds_never_touch_the_test_period() -> None:
    w = Window(40 * DAY, 47 * DAY, 54 * DAY, 61 * DAY)
    folds = prequential_folds(w, n_folds=3, data_start_ms=0)
    assert len(folds) == 3
    for f in folds:
        assert f.test_end <= w.train_end < w.test_start
        assert f.test_start - f.train_end == 7 * DAY  # the same delay
    short = prequential_folds(w, n_folds=2, data_start_ms=30 * DAY)  # 17 days of history: shrink to fit
    assert short and all(f.train_start >= 30 * DAY and f.test_end <= w.train_end for f in short)


def test_window_from_dates_counts_whole_days() -> None:
    from datetime import date

    w = Window.from_dates(date(2024, 1, 1), date(2024, 1, 7), delay_days=7, test_days=7)
    assert (w.train_end - w.train_start) == 7 * DAY
    assert w.delay_days == 7
    assert (w.test_end - w.test_start) == 7 * DAY
