"""Optional feature groups are kept only when the prequential folds show they help."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from models_synth import DAY_MS, T0, synth
from pesaguard.features import FeatureConfig
from pesaguard.features.config import DEFAULT_GROUPS, OPTIONAL_GROUPS, feature_names
from pesaguard.models.data import Dataset, build_matrix
from pesaguard.models.estimators import Candidate
from pesaguard.models.groups import choose_groups, columns_of, wider
from pesaguard.models.protocol import Window
from pesaguard.models.train import Matrix

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
CFG = FeatureConfig()


@pytest.fixture(autouse=True)
def quick_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer trees for the judging setting: the planted signal needs no more, and the test stays fast."""
    from pesaguard.models import groups

    monkeypatch.setattr(groups, "JUDGE", Candidate("group_judge", "lightgbm",
                                                   {**groups.JUDGE.params, "n_estimators": 40}))
WINDOW = Window(T0 + 30 * DAY_MS, T0 + 44 * DAY_MS, T0 + 47 * DAY_MS, T0 + 54 * DAY_MS)


def planted(signal: str, n: int = 6_000, seed: int = 0) -> Matrix:
    """Noise in every column of the wider configuration but ``signal``, which tells fraud from genuine
    almost perfectly (so noise columns cannot seem to help once it is in)."""
    rng = np.random.default_rng(seed)
    names = feature_names(wider(CFG))
    ts = np.sort(rng.integers(T0, T0 + 54 * DAY_MS, n))
    y = (rng.random(n) < 0.05).astype(int)
    # each column's noise from its own name, so adding a feature group leaves the other columns as they were
    x = np.column_stack([np.random.default_rng([seed, zlib.crc32(c.encode())]).normal(size=n) for c in names])
    x[:, names.index(signal)] += 5.0 * y
    txns = pd.DataFrame({"txn_id": [f"t{i}" for i in range(n)], "ts_ms": ts, "payer": "p", "payee": "q",
                         "amount_minor": 100})
    fraud = np.flatnonzero(y)
    labels = pd.DataFrame({"txn_id": txns["txn_id"].to_numpy()[fraud], "is_fraud": 1,
                           "known_at_ms": ts[fraud] + 2 * DAY_MS})
    return Matrix(txns, x, names, labels)


def test_a_group_that_carries_the_signal_is_added_and_one_that_does_not_is_left_out() -> None:
    cfg, record = choose_groups(planted("payee_fraud_rate_7d_lag7d"), CFG, WINDOW, 3, WINDOW.test_start)
    assert "lagged" in cfg.groups and not {"profile", "spree", "recovery"} & set(cfg.groups)
    assert record["added"] == ["lagged"] and record["tried"] == list(OPTIONAL_GROUPS)
    table = record["mean_validation_ap"]
    assert table["+ lagged"]["kept"] and not any(table[f"+ {g}"]["kept"] for g in ("profile", "spree", "recovery"))
    assert table["+ lagged"]["mean"] > 0.95 > 0.5 > table["configured groups"]["mean"]


def test_nothing_optional_is_added_when_the_signal_is_already_in_the_default_groups() -> None:
    cfg, record = choose_groups(planted("amount_ratio_30d"), CFG, WINDOW, 3, WINDOW.test_start)
    assert cfg.groups == DEFAULT_GROUPS and record["added"] == []


def test_too_few_validation_frauds_keep_the_configured_groups() -> None:
    m = planted("payee_fraud_rate_7d_lag7d", n=500)
    cfg, record = choose_groups(m, CFG, WINDOW, 3, WINDOW.test_start)
    assert cfg.groups == DEFAULT_GROUPS and "validation frauds" in record["note"]
    assert choose_groups(m, cfg, WINDOW, 3, WINDOW.test_start, optional=())[0] == cfg


def test_a_column_is_the_same_whichever_other_groups_are_on() -> None:
    tx, lab = synth(seed=5, days=20)
    ds = Dataset(tx, lab)
    narrow, wide = build_matrix(ds, CFG), build_matrix(ds, wider(CFG))
    np.testing.assert_array_equal(narrow.x, wide.x[:, columns_of(wide.feature_names, CFG)])
    assert narrow.feature_names == [wide.feature_names[i] for i in columns_of(wide.feature_names, CFG)]


def test_the_model_card_says_which_groups_were_tried_and_kept() -> None:
    from pesaguard.models.bundle import _selection
    from pesaguard.models.pipeline import selection_record

    _, record = choose_groups(planted("payee_fraud_rate_7d_lag7d"), CFG, WINDOW, 3, WINDOW.test_start)
    card = selection_record([{"feature_groups": record}])
    assert card["feature_groups"]["added"] == ["lagged"]
    tried = ", ".join(OPTIONAL_GROUPS)
    assert f"optional feature groups tried in the folds: {tried}; kept: lagged" in _selection({"selection": card})


def test_the_payee_recovery_column_carries_its_own_signal() -> None:
    cfg, record = choose_groups(planted("payee_clean_secs_after_fraud_lag7d"), CFG, WINDOW, 3, WINDOW.test_start,
                                optional=("spree", "recovery"))
    assert record["added"] == ["recovery"] and "recovery" in cfg.groups
    assert record["mean_validation_ap"]["+ recovery"]["mean"] > 0.95
