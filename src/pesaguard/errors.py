"""One error hierarchy. Each error names where the problem is and how to fix it.

Exit codes follow ``sysexits.h`` where one fits; HTTP statuses are what the API returns.

>>> e = InputError("amount is not a number", file="tx.csv", row=7, field="amount", hint="use digits")
>>> str(e)
'tx.csv, row 7, field amount: amount is not a number (fix: use digits)'
>>> (e.exit_code, e.http_status)
(65, 422)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar


class PesaguardError(Exception):
    """Base error: carries location (file, row, field, setting), a fix, an exit code and an HTTP status."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
        setting: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        self.setting = setting

    def location(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        if self.setting is not None:
            parts.append(f"setting {self.setting}")
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        if self.hint:
            text += f" (fix: {self.hint})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The JSON error envelope body used by the API and ``--json`` outputs."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "hint": self.hint,
                "file": self.file,
                "row": self.row,
                "field": self.field,
                "setting": self.setting,
            }
        }


class ConfigError(PesaguardError):
    """A setting is missing or invalid."""

    exit_code = 78  # EX_CONFIG
    http_status = 500
    code = "config_error"


class InputError(PesaguardError):
    """User-supplied data (a file, a row, a request field) is invalid."""

    exit_code = 65  # EX_DATAERR
    http_status = 422
    code = "invalid_input"


class UsageError(PesaguardError):
    """A command or request was called the wrong way (bad option combination)."""

    exit_code = 64  # EX_USAGE
    http_status = 400
    code = "bad_request"


class NotFoundError(PesaguardError):
    """A file, record or model that was asked for does not exist."""

    exit_code = 66  # EX_NOINPUT
    http_status = 404
    code = "not_found"


class ConflictError(PesaguardError):
    """The request conflicts with stored state (for example the same id with different content)."""

    exit_code = 65
    http_status = 409
    code = "conflict"


class AuthError(PesaguardError):
    """Missing or invalid credentials."""

    exit_code = 77  # EX_NOPERM
    http_status = 401
    code = "unauthorized"


class ForbiddenError(PesaguardError):
    """Valid credentials without the role the action needs."""

    exit_code = 77
    http_status = 403
    code = "forbidden"


class StoreError(PesaguardError):
    """The database could not be reached or a migration failed."""

    exit_code = 74  # EX_IOERR
    http_status = 503
    code = "store_unavailable"


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (a restart, a network fault): retry shortly."""

    code = "store_unavailable"


class PayloadTooLarge(PesaguardError):
    """A request body larger than the service accepts."""

    exit_code = 65
    http_status = 413
    code = "too_large"


class TooManyRequests(PesaguardError):
    """Too many attempts (console log-in failures): wait before trying again."""

    exit_code = 75  # EX_TEMPFAIL
    http_status = 429
    code = "too_many_requests"


class ModelNotReadyError(PesaguardError):
    """No trained model is available where one is needed."""

    exit_code = 69  # EX_UNAVAILABLE
    http_status = 503
    code = "model_not_ready"
