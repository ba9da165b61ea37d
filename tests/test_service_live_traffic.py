"""The demo server: traffic streams through HTTP, the queue fills, and the printed key logs in."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd

from pesaguard.config import Settings
from pesaguard.console.session import login
from pesaguard.service.live_traffic import serve_demo
from pesaguard.store import Store
from pesaguard.store import cases as case_repo
from service_support import TinyScorer, txn


def test_serve_demo_streams_traffic_and_prints_a_working_analyst_key(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    traffic = pd.DataFrame([txn(f"t{i}", amount=6_000_000 if i % 10 == 0 else 3_000, night=i % 10 == 0,
                                payer=f"C{i % 4}") for i in range(40)])
    lines: list[str] = []
    settings = Settings(home=tmp_path / "home")
    result = serve_demo(settings, traffic, port=port, rate=400, duration=3, say=lines.append, scorer=TinyScorer())
    assert result["sent"] == 40 and result["errors"] == {}
    assert result["actions"]["block"] == 4 and sum(result["actions"].values()) == 40
    assert any(f"http://127.0.0.1:{port}/console" in line for line in lines)
    assert any(result["analyst_key"] in line for line in lines)
    store = Store(settings.resolved_database_url)
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 40
    assert [c["n_alerts"] for c in case_repo.list_cases(store)] == [2, 2]  # C0 and C2: one case each
    token, who = login(store, "", result["analyst_key"])
    assert who.role == "analyst" and token
    store.close()
