"""Serve the API and console on localhost while simulated traffic streams in (``pesaguard demo``).

Traffic goes through the real front door: HTTP ``POST /v1/transactions`` with a scorer key, so the
alert queue fills live exactly as it would in production. The caller supplies the transactions
(for example simulated days that are not yet in the store) in time order.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pandas as pd

from pesaguard.config import Settings
from pesaguard.errors import ConfigError
from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key

#: How long the demo waits for the service to start (warming the feature state is most of it).
START_TIMEOUT_S = 600


def request_bodies(transactions: pd.DataFrame) -> list[dict[str, Any]]:
    """``POST /v1/transactions`` bodies for ``transactions``, in time order, without empty fields."""
    cols = [c for c in TRANSACTION_COLUMNS if c in transactions]
    df = transactions.sort_values(["ts_ms", "txn_id"], kind="stable")[cols]
    # every numeric transaction column is integer minor units or ms; a column with gaps arrives as float
    return [{str(k): int(v) if isinstance(v, float) and v.is_integer() else v for k, v in rec.items() if not pd.isna(v)}
            for rec in df.to_dict("records")]


def serve_demo(settings: Settings, transactions: pd.DataFrame, *, host: str = "127.0.0.1", port: int = 8000,
               rate: float = 20.0, duration: float | None = None, say: Callable[[str], None] = print,
               **app_options: Any) -> dict[str, Any]:
    """Start the server, print the console URL and an analyst key, stream ``transactions`` at ``rate``
    per second, and keep serving until Ctrl-C (or for ``duration`` seconds in total, if given).

    Returns what happened: ``{"url", "analyst_key", "sent", "actions": {action: n}, "errors"}``.
    """
    import uvicorn

    app = create_app(settings, **app_options)
    store = app.state.store
    analyst_key = create_key(store, "analyst", "demo analyst")
    scorer_key = create_key(store, "scorer", "demo traffic")
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="pesaguard-demo-server", daemon=True)
    thread.start()
    # start-up replays the stored history into the feature state (a minute or more for the demo's
    # seven weeks on a busy machine), so wait for it; a thread that dies has failed to start
    deadline = time.monotonic() + START_TIMEOUT_S
    say("starting the service: warming its feature state from the stored history")
    while not server.started:
        if not thread.is_alive():
            raise ConfigError(f"the demo server could not start on {host}:{port}",
                              hint="free the port or choose another with --port")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise ConfigError(f"the demo server did not finish starting within {START_TIMEOUT_S} s",
                              hint="the machine may be busy: try again, or serve with `pesaguard serve`")
        time.sleep(0.05)
    url = f"http://{host}:{port}"
    say(f"console: {url}/console  (log in with an empty user name and this analyst key as password)")
    say(f"analyst key: {analyst_key}")
    say(f"API docs: {url}/docs; streaming {len(transactions):,} transactions at {rate:g}/s; Ctrl-C stops")
    actions: Counter[str] = Counter()
    errors: Counter[int] = Counter()
    sent = 0
    started = time.monotonic()
    try:
        with httpx.Client(base_url=url, headers={"X-API-Key": scorer_key}, timeout=30) as client:
            for body in request_bodies(transactions):
                if duration is not None and time.monotonic() - started > duration:
                    break
                r = client.post("/v1/transactions", json=body)
                sent += 1
                if r.status_code == 200:
                    actions[r.json()["action"]] += 1
                else:
                    errors[r.status_code] += 1
                    if errors[r.status_code] == 1:
                        say(f"the service answered {r.status_code}: {r.text[:300]}")
                pause = started + sent / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        say(f"traffic done: {sent:,} sent, {dict(actions)}; still serving (Ctrl-C stops)")
        while duration is None or time.monotonic() - started < duration:
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    return {"url": url, "analyst_key": analyst_key, "sent": sent, "actions": dict(actions), "errors": dict(errors)}
