"""Exit codes (SPEC section 7) and the typed error tree every layer raises."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    AUTH = 3
    UNREACHABLE = 4
    NOT_FOUND = 5
    REJECTED = 6
    PARTIAL = 7
    LOCKED = 75


class KaseError(Exception):
    """An error a user can act on: a message, a machine code, an exit code and a hint."""

    exit_code: ExitCode = ExitCode.INTERNAL
    code: str = "internal"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code


class UsageError(KaseError):
    exit_code = ExitCode.USAGE
    code = "usage"


class ConfigError(UsageError):
    code = "config"


class AuthError(KaseError):
    exit_code = ExitCode.AUTH
    code = "auth"


class UnreachableError(KaseError):
    exit_code = ExitCode.UNREACHABLE
    code = "unreachable"


class NotFoundError(KaseError):
    exit_code = ExitCode.NOT_FOUND
    code = "not_found"


class RejectedError(KaseError):
    exit_code = ExitCode.REJECTED
    code = "rejected"


class PartialSyncError(KaseError):
    exit_code = ExitCode.PARTIAL
    code = "partial"


class LockedError(KaseError):
    exit_code = ExitCode.LOCKED
    code = "locked"


class StoreError(KaseError):
    """The store cannot be used (newer schema, unreachable database)."""

    exit_code = ExitCode.USAGE
    code = "store"
