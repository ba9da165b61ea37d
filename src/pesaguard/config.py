"""One typed settings object for the whole system.

Values come from, in order of precedence: explicit arguments, environment variables
``PESAGUARD_*``, an optional ``pesaguard.toml`` in the working directory, then defaults.
Nothing is created on disk when settings are read; call :meth:`Settings.ensure_home` for that.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
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
    redaction_salt: str = Field(
        default="pesaguard-default-salt-change-me",
        description="Salt for hashing SMS texts and identifiers; set a secret value in production.",
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

    sqlite_wal_reset_mb: float = Field(
        default=128, ge=0,
        description="SQLite, decision journal off: once the write-ahead log passes this size (MB), the decision "
        "service holds its next commit while a background checkpoint copies the rest, so the log starts again from its beginning; "
        "0 = never (the log then grows under sustained load until traffic pauses).",
    )
    sqlite_writer_cache_mb: float = Field(
        default=8, ge=1,
        description="SQLite only: page cache of the connection that stores decisions (MB): the decision journal's "
        "copying process, or the service itself with the journal off. At start-up it reads into it the indexes "
        "every decision writes into, as far as they fit (about 120 bytes per stored transaction). Raise it to hold them on machines that evict idle file pages from the OS "
        "cache (proactive reclaim on cloud VMs), where commits otherwise wait for disk reads; a larger cache "
        "costs CPU per decision (measured: 0.36 against 0.30 ms at 1,024 MB).",
    )
    sqlite_wal_hold_ms: float = Field(
        default=50, gt=0,
        description="SQLite, decision journal off: the longest such a hold may delay commits (ms); past it the "
        "service commits anyway, logs a warning and retries 30 s later.",
    )
    decision_journal: bool = Field(
        default=True,
        description="The decision service acknowledges a decision once it is appended to a journal file under "
        "HOME/journal, and a separate process copies the journal into the store a few ms later (reads through the "
        "API and console wait for it). false = commit to the store on the event loop before acknowledging (slower "
        "per decision; the SQLite WAL settings above apply to that mode, and to the journal's copying process "
        "only through the writer cache).",
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
        """Create the home directory tree and return it."""
        for d in (self.home, self.models_dir, self.data_dir, self.home / "mlflow"):
            d.mkdir(parents=True, exist_ok=True)
        return self.home


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
