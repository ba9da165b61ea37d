"""Crash safety for real: SIGKILL a running `pesaguard ingest`, run it again, nothing lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pesaguard.store import Store, core
from pesaguard.store import quarantine as qstore

ROWS = 200_000
BAD_EVERY = 997  # rows with amount 'abc'
CHUNK = 10_000


def _paysim_csv(path: Path) -> np.ndarray:
    """A PaySim-shaped file with some bad rows and some identical rows; returns the bad-row mask."""
    rng = np.random.default_rng(7)
    types = np.array(["CASH_IN", "CASH_OUT", "TRANSFER", "PAYMENT", "DEBIT"])
    amount = np.char.mod("%.2f", rng.lognormal(8, 1.5, ROWS).round(2) + 0.01).astype(object)
    bad = np.arange(ROWS) % BAD_EVERY == 5
    amount[bad] = "abc"
    df = pd.DataFrame({
        "step": np.sort(rng.integers(1, 744, ROWS)),
        "type": types[rng.integers(0, 5, ROWS)],
        "amount": amount,
        "nameOrig": np.char.add("C", rng.integers(10**8, 2 * 10**9, ROWS).astype(str)),
        "oldbalanceOrg": rng.integers(0, 10**7, ROWS) / 100,
        "newbalanceOrig": rng.integers(0, 10**7, ROWS) / 100,
        "nameDest": np.char.add("M", rng.integers(10**8, 2 * 10**9, ROWS).astype(str)),
        "oldbalanceDest": 0.0,
        "newbalanceDest": 0.0,
        "isFraud": (rng.random(ROWS) < 0.01).astype(int),
        "isFlaggedFraud": 0,
    })
    df.iloc[100:110] = df.iloc[99]  # ten rows identical to row 100: eleven distinct transactions
    bad[100:110] = bad[99]
    df.to_csv(path, index=False)
    return bad


def _run(url: str, home: Path, path: Path, report: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PESAGUARD_HOME": str(home), "PESAGUARD_DATABASE_URL": url}
    cmd = [sys.executable, "-m", "pesaguard.cli.main", "--quiet", "ingest", str(path), "--label-delay-days", "7",
           "--chunk-rows", str(CHUNK), "--json", str(report)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_kill_9_mid_ingest_then_rerun_loses_and_doubles_nothing(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "paysim.csv"
    bad_mask = _paysim_csv(path)
    valid, bad = int((~bad_mask).sum()), int(bad_mask.sum())
    # what the store may hold after a kill: the valid rows of the first k whole chunks
    whole_chunks = {int((~bad_mask[: k * CHUNK]).sum()) for k in range(ROWS // CHUNK + 1)}
    store = Store(store_url)
    store.migrate()
    proc = _run(store_url, tmp_path / "home", path, tmp_path / "first.json")
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        committed = core.count(store, "transactions")
        if committed > 0:
            break
        time.sleep(0.01)
    assert proc.poll() is None, f"ingest finished before it could be killed: {proc.communicate()}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    after_kill = core.count(store, "transactions")
    assert 0 < after_kill < valid, "the kill should land mid-ingest"
    assert after_kill in whole_chunks  # each chunk is committed whole or not at all
    assert not (tmp_path / "first.json").exists()
    runs = qstore.load_runs(store)
    assert len(runs) == 1 and runs.loc[0, "finished_ms"] is None  # the killed run shows as unfinished

    rerun = _run(store_url, tmp_path / "home", path, tmp_path / "second.json")
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()
    report = json.loads((tmp_path / "second.json").read_text())
    assert report["read"] == ROWS
    assert report["quarantined"] == bad
    assert report["accepted"] + report["duplicates"] == valid
    assert report["duplicates"] >= after_kill
    assert core.count(store, "transactions") == valid
    assert store.scalar("SELECT COUNT(DISTINCT txn_id) FROM transactions") == valid
    assert core.count(store, "quarantine") == bad
    assert store.scalar("SELECT COUNT(DISTINCT row_number) FROM quarantine") == bad
    runs = qstore.load_runs(store)
    assert len(runs) == 1 and runs.loc[0, "finished_ms"] is not None and runs.loc[0, "rows_read"] == ROWS
    # a third run finds everything in place
    third = _run(store_url, tmp_path / "home", path, tmp_path / "third.json")
    third.communicate(timeout=600)
    again = json.loads((tmp_path / "third.json").read_text())
    assert (again["accepted"], again["duplicates"], again["quarantined"]) == (0, valid, bad)
    assert core.count(store, "transactions") == valid
    store.close()
