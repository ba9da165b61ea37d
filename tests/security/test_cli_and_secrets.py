"""Secrets stay out of command lines, banners and process lists; the CLI answers a careless operator
with one line, never a traceback; the redaction salt is a secret of each installation."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pesaguard.cli.main import app
from pesaguard.config import Settings
from pesaguard.decisions.journal import Journal
from pesaguard.errors import ConfigError
from pesaguard.store import Store
from pesaguard.store import access as repo

runner = CliRunner()


def test_serve_refuses_several_workers_and_says_what_to_do_instead(env_home: Path) -> None:
    result = runner.invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 64
    assert "consume --cluster" in result.output and "Traceback" not in result.output


def test_the_serve_banner_masks_the_database_password(env_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: started.update(kw))
    monkeypatch.setenv("PESAGUARD_DATABASE_URL", "postgresql://app:s3cret-pw@db.internal:5432/pesaguard")
    from pesaguard.config import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert "s3cret-pw" not in result.output and "app:***@db.internal" in result.output
    assert started["workers"] == 1 and started["proxy_headers"] is True
    from pesaguard.config import masked_url

    assert masked_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_the_demo_banner_masks_the_database_password(env_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    import pesaguard.demo_stages
    import pesaguard.store
    from pesaguard.config import get_settings
    from pesaguard.errors import StoreError

    @contextmanager
    def fake_store(settings: Settings) -> Any:  # the banner is printed before the first write
        yield type("S", (), {"dialect": "postgresql"})()

    def stop(*a: Any, **kw: Any) -> Any:
        raise StoreError("stopped after the banner")

    monkeypatch.setattr(pesaguard.store, "open_store", fake_store)
    monkeypatch.setattr(pesaguard.demo_stages, "simulate_and_ingest", stop)
    monkeypatch.setenv("PESAGUARD_DATABASE_URL", "postgresql://app:s3cret-pw@db.internal:5432/pesaguard")
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--duration", "1"])
    assert "stopped after the banner" in result.output, result.output
    assert "s3cret-pw" not in result.output and "app:***@db.internal" in result.output


def test_the_journals_copying_process_gets_the_database_url_outside_its_command_line(store: Store,
                                                                                      tmp_path: Path) -> None:
    j = Journal(store, tmp_path / "journal", store.url)
    try:
        assert j._proc is not None
        cmdline = ""
        for _ in range(200):  # empty for a moment while the process starts
            cmdline = Path(f"/proc/{j._proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if cmdline:
                break
            time.sleep(0.01)
        assert "pesaguard.decisions.journal" in cmdline
        assert store.url not in cmdline and "://" not in cmdline
        asyncio.run(_one(j))
        assert asyncio.run(j.sync(timeout=30))  # and it still reaches the store
    finally:
        j.close()
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 1


async def _one(j: Journal) -> None:
    features = {"amount": 1.0}
    decision = {"decision_id": "d_1", "txn_id": "T1", "request_hash": "h", "ts_ms": 1, "account_id": "C1",
                "amount_minor": 5, "action": "allow", "score": 0.1, "reasons": [], "rule_hits": [],
                "features": features, "model_version": "m", "policy_version": "p", "created_ms": 1}
    await j.submit(decision, ["T1", 1, "C1", "M1", 5, "KES"] + [None] * 9)


def test_a_store_url_in_an_error_is_masked() -> None:
    with pytest.raises(ConfigError) as err:
        Store("mysql://root:hunter2@db/x")
    assert "hunter2" not in str(err.value)


def test_users_create_never_takes_the_password_as_an_argument(env_home: Path) -> None:
    refused = runner.invoke(app, ["users", "create", "amina", "--password", "correct horse"])
    assert refused.exit_code != 0 and "No such option" in refused.output
    made = runner.invoke(app, ["users", "create", "amina", "--password-stdin"], input="correct horse battery\n")
    assert made.exit_code == 0, made.output
    prompted = runner.invoke(app, ["users", "create", "bakari"], input="a long secret\na long secret\n")
    assert prompted.exit_code == 0, prompted.output
    short = runner.invoke(app, ["users", "create", "chausiku", "--password-stdin"], input="short\n")
    assert short.exit_code == 65 and "shorter than 8" in short.output
    store = Store(f"sqlite:///{env_home / 'pesaguard.db'}")
    assert {u for u in ("amina", "bakari", "chausiku") if repo.find_user(store, u)} == {"amina", "bakari"}
    store.close()


@pytest.mark.parametrize("command", [["db", "status"], ["keys", "list"], ["keys", "create", "--role", "scorer"],
                                     ["users", "create", "x", "--password-stdin"], ["train"]])
def test_an_unusable_home_is_one_line_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      command: list[str]) -> None:
    from pesaguard.config import get_settings

    (tmp_path / "file").write_text("a file where a directory should be")
    monkeypatch.setenv("PESAGUARD_HOME", str(tmp_path / "file" / "home"))
    monkeypatch.delenv("PESAGUARD_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, command, input="long enough pw\n")
    get_settings.cache_clear()
    assert result.exit_code in (74, 78), result.output
    assert "Traceback" not in result.output and "error:" in result.output and "home" in result.output


def test_files_that_are_not_what_they_claim_are_one_line_errors(env_home: Path, tmp_path: Path) -> None:
    env_home.mkdir(parents=True)
    (env_home / "pesaguard.db").write_bytes(b"not a database, but long enough to look like one" * 40)
    r = runner.invoke(app, ["db", "status"])
    assert r.exit_code == 74 and "is a pesaguard database" in r.output
    binary = tmp_path / "rules.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    for command in (["rules", "check", str(binary)], ["serve", "--rules", str(binary)]):
        r = runner.invoke(app, command)
        assert r.exit_code == 65 and "not UTF-8" in r.output, command
    r = runner.invoke(app, ["score", str(tmp_path), "--out", str(tmp_path / "o.csv")])
    assert r.exit_code == 65 and "cannot read transactions" in r.output
    for empty in ("empty.csv", "empty.parquet"):
        (tmp_path / empty).write_bytes(b"")
        r = runner.invoke(app, ["score", str(tmp_path / empty), "--out", str(tmp_path / "o.csv")])
        assert r.exit_code == 65 and "cannot read transactions" in r.output, empty


def test_the_redaction_salt_is_generated_once_per_home_with_owner_only_access(tmp_path: Path) -> None:
    a, b = Settings(home=tmp_path / "a"), Settings(home=tmp_path / "b")
    assert not (tmp_path / "a").exists()  # reading settings creates nothing
    salt = a.redaction_salt
    assert len(salt) == 64 and salt == Settings(home=tmp_path / "a").redaction_salt  # stable for the home
    assert salt != b.redaction_salt  # and different per installation
    mode = stat.S_IMODE(os.stat(tmp_path / "a" / "redaction_salt").st_mode)
    assert mode == 0o600
    assert Settings(home=tmp_path / "c", redaction_salt="an-operator-chosen-secret").redaction_salt == \
        "an-operator-chosen-secret"


def test_the_published_development_salt_is_refused_outside_the_tests(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    dev = Settings(home=tmp_path, redaction_salt="pesaguard-default-salt-change-me")
    assert dev.redaction_salt == "pesaguard-default-salt-change-me"  # inside the test suite: allowed
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    with pytest.raises(ConfigError, match="development value") as err:
        _ = dev.redaction_salt
    assert err.value.setting == "PESAGUARD_REDACTION_SALT"
    with pytest.raises(ConfigError, match="shorter than 16"):
        _ = Settings(home=tmp_path, redaction_salt="short").redaction_salt
