"""One typed settings object for the whole system.

Values come from, in order of precedence: explicit arguments, environment variables
``PESAGUARD_*``, an optional ``pesaguard.toml`` in the working directory, then defaults.
Nothing is created on disk when settings are read; call :meth:`Settings.ensure_home` for that.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Runtime settings. Every field can be set as ``PESAGUARD_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="PESAGUARD_",
        extra="forbid",
        toml_file="pesaguard.toml",
        validate_default=True,
    )

    home: Path = Field(
        default=Path(".pesaguard"),
        description="Home for data, models and the embedded database.",
    )
    database_url: str | None = Field(
        default=None,
        description="sqlite:///PATH or postgresql://...; defaults to SQLite at HOME/pesaguard.db.",
    )
    currency: str = Field(default="KES", description="Default ISO 4217 currency for amounts.")
    operator_sender_ids: list[str] = Field(
        default_factory=lambda: ["MPESA", "M-PESA", "MoMo", "AirtelMoney"],
        description="Sender IDs the operator's genuine notifications come from.",
    )
    redaction_salt_setting: str | None = Field(
        default=None,
        validation_alias=AliasChoices("redaction_salt", "pesaguard_redaction_salt"),
        description="PESAGUARD_REDACTION_SALT: the secret key of the salted hashes of SMS texts, phone numbers and "
        "message ids. Unset: a random salt generated once into HOME/redaction_salt (mode 0600). The development "
        "salts are refused outside the test suite.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; defaults to SQLite under HOME/mlflow.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    shadow_model: str | None = Field(
        default=None,
        description="Registered model version (or `challenger`: the newest non-champion version) the service "
        "scores next to the champion in shadow mode, logged to shadow_scores; unset = off.",
    )
    assistant_llm_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible chat API for the assistant (e.g. http://127.0.0.1:11434/v1 "
        "for Ollama); unset = extractive answers, no model.",
    )
    assistant_llm_model: str = Field(default="llama3.2", description="Model name sent to the assistant's chat API.")
    assistant_llm_api_key: str | None = Field(default=None, description="Bearer key for the assistant's chat API.")
    assistant_llm_timeout_s: float = Field(default=30.0, gt=0, description="Timeout of one chat API call, seconds.")

    # -- what the service accepts and how it stops (pesaguard.service, pesaguard.decisions) --------
    max_event_ahead_s: float = Field(
        default=3600, ge=0,
        description="Event times (a transaction's ts_ms, a label's known_at, an SMS's or triage message's "
        "received_at) more than this many seconds ahead of the server clock are refused (422).",
    )
    max_event_age_days: float = Field(
        default=3650, gt=0,
        description="Event times older than this many days before the server clock are refused (422).",
    )
    max_body_bytes: int = Field(
        default=2 * 2**20, ge=4096,
        description="Largest request body the service reads (bytes); larger ones answer 413.",
    )
    shutdown_grace_s: float = Field(
        default=10, gt=0,
        description="On SIGTERM the service finishes open requests and lets the journal's copying process store "
        "what it can for at most this long; what is left stays in the journal for the next start.",
    )
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token a Prometheus scraper may send to /metrics (any API key also works); unset: "
        "/metrics needs an API key.",
    )
    metrics_bind: str | None = Field(
        default=None,
        description="HOST:PORT of a separate listener serving /metrics without authentication (for a scraper on a "
        "private interface), e.g. 127.0.0.1:9464; unset: none.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies (comma-separated IPs, or *) whose X-Forwarded-Proto and X-Forwarded-For the service "
        "trusts: behind a TLS-terminating proxy, console cookies are then marked Secure.",
    )
    login_max_failures: int = Field(
        default=5, ge=1,
        description="Console: wrong passwords for one user name (or 4x as many from one address) within "
        "login_lockout_s before further log-ins from it are refused for login_lockout_s.",
    )
    login_lockout_s: float = Field(default=900, gt=0, description="Console log-in failure window and lockout, seconds.")

    sqlite_writer_cache_mb: float = Field(
        default=8, ge=1,
        description="SQLite only: page cache of the connection that stores decisions (MB), in the decision journal's "
        "copying process. At start-up it reads into it the indexes "
        "every decision writes into, as far as they fit (about 120 bytes per stored transaction). Raise it to hold them on machines that evict idle file pages from the OS "
        "cache (proactive reclaim on cloud VMs), where commits otherwise wait for disk reads; a larger cache "
        "costs CPU per commit.",
    )
    decision_journal_max_lag: int = Field(
        default=20_000, ge=100,
        description="Acknowledged decisions not yet copied into the store beyond which new decisions answer 503 "
        "(the copying process is down or behind).",
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="NATS server(s) with JetStream that `pesaguard consume` reads transactions and labels from and "
        "publishes decisions to; several as a comma-separated list (nats://user:password@host:4222).",
    )

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, v: str) -> str:
        if len(v) != 3 or not v.isalpha():
            raise ValueError("currency must be a 3-letter ISO 4217 code such as KES, TZS or UGX")
        return v.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'pesaguard.db').as_posix()}"

    @property
    def redaction_salt(self) -> str:
        """The redaction salt: ``PESAGUARD_REDACTION_SALT``, else HOME/redaction_salt, created with a random
        value (mode 0600) on first use. A known development salt is a :class:`ConfigError` outside tests."""
        return _redaction_salt(self.home, self.redaction_salt_setting)

    @property
    def resolved_mlflow_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / 'mlflow' / 'mlflow.db').resolve().as_posix()}"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def ensure_home(self) -> Path:
        """Create the home directory tree and return it (:class:`ConfigError` if it cannot be written)."""
        from pesaguard.errors import ConfigError

        for d in (self.home, self.models_dir, self.data_dir, self.home / "mlflow"):
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create {d}: {exc.strerror or exc}", setting="PESAGUARD_HOME",
                                  hint="point PESAGUARD_HOME at a directory this user can write") from exc
        if not os.access(self.home, os.W_OK | os.X_OK):
            raise ConfigError(f"{self.home} is not writable", setting="PESAGUARD_HOME",
                              hint="point PESAGUARD_HOME at a directory this user can write")
        return self.home


#: Salts published in this repository's history and docs: hashes under them can be reversed by
#: enumerating the numbering plan, so they are refused outside the test suite.
DEVELOPMENT_SALTS = frozenset({"pesaguard-default-salt-change-me"})
_SALT_FILE = "redaction_salt"


def _redaction_salt(home: Path, configured: str | None) -> str:
    import secrets

    from pesaguard.errors import ConfigError

    if configured is not None:
        if configured in DEVELOPMENT_SALTS and "PYTEST_CURRENT_TEST" not in os.environ:
            raise ConfigError("PESAGUARD_REDACTION_SALT is a development value published with pesaguard, so its "
                              "hashes of phone numbers can be reversed", setting="PESAGUARD_REDACTION_SALT",
                              hint="unset it (a random salt is then kept in HOME/redaction_salt) or set a secret "
                                   "of your own, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`")
        if len(configured) < 16:
            raise ConfigError("PESAGUARD_REDACTION_SALT is shorter than 16 characters", setting="PESAGUARD_REDACTION_SALT",
                              hint="use a random secret of at least 16 characters")
        return configured
    path = home / _SALT_FILE
    try:
        return _read_salt(path)
    except FileNotFoundError:
        pass
    try:
        home.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not each write a different salt
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_salt(path)
    except OSError as exc:
        raise ConfigError(f"cannot create the redaction salt file {path}: {exc.strerror or exc}",
                          setting="PESAGUARD_REDACTION_SALT",
                          hint="make PESAGUARD_HOME writable, or set PESAGUARD_REDACTION_SALT") from exc
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return _read_salt(path)


def _read_salt(path: Path) -> str:
    import time

    from pesaguard.errors import ConfigError

    for _ in range(50):  # another process may have created the file and not written it yet
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value
        time.sleep(0.01)
    raise ConfigError(f"the redaction salt file {path} is empty", setting="PESAGUARD_REDACTION_SALT",
                      hint="restore it from a backup (the stored hashes depend on it), or delete it to start a new salt")


def masked_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for anything a person or a log may read.

    >>> masked_url("postgresql://app:s3cret@db:5432/pesaguard")
    'postgresql://app:***@db:5432/pesaguard'
    >>> masked_url("sqlite:///home/pesaguard.db")
    'sqlite:///home/pesaguard.db'
    """
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unreadable URL>"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests build their own ``Settings`` instead."""
    return load_settings()


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into a :class:`ConfigError` naming the setting."""
    from pydantic import ValidationError

    from pesaguard.errors import ConfigError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "?"
        raise ConfigError(
            f"{first['msg']} (got {first.get('input')!r})",
            setting=f"PESAGUARD_{name.upper()}",
            hint=f"set PESAGUARD_{name.upper()} (or '{name}' in pesaguard.toml) to a valid value",
        ) from exc
