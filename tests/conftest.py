"""Shared fixtures. ``store`` runs each test against SQLite and, when a server is configured
(``PESAGUARD_TEST_POSTGRES_URL``, set by ``.ci/run``), against PostgreSQL too; under CI a missing
server is a failure, not a skip."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ci_support import missing
from pesaguard.config import Settings
from pesaguard.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PG_URL = os.environ.get("PESAGUARD_TEST_POSTGRES_URL")


def _pg_schema_url(schema: str) -> str:
    assert PG_URL is not None
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty database of each dialect."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not PG_URL:
        missing("a PostgreSQL server", "set PESAGUARD_TEST_POSTGRES_URL; .ci/run starts one and sets it")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_schema_url(schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with an isolated home under ``tmp_path``."""
    return Settings(home=tmp_path / "home")


@pytest.fixture
def env_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point PESAGUARD_HOME at a temp dir for CLI tests (and clear the settings cache)."""
    from pesaguard.config import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("PESAGUARD_HOME", str(home))
    monkeypatch.delenv("PESAGUARD_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
