"""Settings precedence and validation; the error hierarchy's contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesaguard import errors
from pesaguard.config import Settings, load_settings


def test_defaults_live_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PESAGUARD_HOME", raising=False)
    monkeypatch.delenv("PESAGUARD_DATABASE_URL", raising=False)
    s = Settings()
    assert s.home == Path(".pesaguard")
    assert s.resolved_database_url == "sqlite:///.pesaguard/pesaguard.db"
    assert not (tmp_path / ".pesaguard").exists()  # reading settings creates nothing
    s.ensure_home()
    assert (tmp_path / ".pesaguard" / "models").is_dir()


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PESAGUARD_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("PESAGUARD_DATABASE_URL", "postgresql://u:p@db/x")
    monkeypatch.setenv("PESAGUARD_CURRENCY", "tzs")
    s = Settings()
    assert s.home == tmp_path / "h"
    assert s.resolved_database_url == "postgresql://u:p@db/x"
    assert s.currency == "TZS"


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pesaguard.toml").write_text('currency = "UGX"\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("PESAGUARD_LOG_LEVEL", "WARNING")
    monkeypatch.delenv("PESAGUARD_CURRENCY", raising=False)
    s = Settings()
    assert (s.currency, s.log_level) == ("UGX", "WARNING")


def test_bad_setting_names_the_variable_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PESAGUARD_CURRENCY", "shilling")
    with pytest.raises(errors.ConfigError) as exc:
        load_settings()
    assert exc.value.setting == "PESAGUARD_CURRENCY"
    assert "3-letter" in str(exc.value) and "fix:" in str(exc.value)
    assert exc.value.exit_code == 78


def test_unknown_toml_key_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pesaguard.toml").write_text('curency = "UGX"\n')
    with pytest.raises(errors.ConfigError) as exc:
        load_settings()
    assert exc.value.setting == "PESAGUARD_CURENCY"


@pytest.mark.parametrize(
    ("cls", "exit_code", "status"),
    [
        (errors.InputError, 65, 422),
        (errors.UsageError, 64, 400),
        (errors.NotFoundError, 66, 404),
        (errors.ConflictError, 65, 409),
        (errors.AuthError, 77, 401),
        (errors.ForbiddenError, 77, 403),
        (errors.StoreError, 74, 503),
        (errors.ModelNotReadyError, 69, 503),
        (errors.ConfigError, 78, 500),
    ],
)
def test_each_error_carries_exit_code_status_and_envelope(cls: type[errors.PesaguardError],
                                                         exit_code: int, status: int) -> None:
    e = cls("bad thing", file="f.csv", row=3, field="amount", hint="do x")
    assert issubclass(cls, errors.PesaguardError)
    assert (e.exit_code, e.http_status) == (exit_code, status)
    body = e.to_dict()["error"]
    assert body["code"] == cls.code and body["row"] == 3 and body["field"] == "amount" and body["hint"] == "do x"
    assert str(e) == "f.csv, row 3, field amount: bad thing (fix: do x)"
