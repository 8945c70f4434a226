"""The tracker token: TESTKASE_TOKEN at run time, else the OS keyring (service `testkase`).

Keyring failures become AuthError (exit 3) with the way out: set TESTKASE_TOKEN, or
install and select a keyring backend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from testkase_cli.errors import AuthError

SERVICE = "testkase"
ENV_TOKEN = "TESTKASE_TOKEN"
NO_BACKEND_HINT = (
    f"set {ENV_TOKEN} in the environment (cron, CI), or install and select a keyring "
    "backend (see `keyring --list-backends`; PYTHON_KEYRING_BACKEND selects one)"
)


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # "environment" | "keyring" | "prompt" | "stdin"


def from_env() -> Token | None:
    value = os.environ.get(ENV_TOKEN, "").strip()
    return Token(value, "environment") if value else None


class KeyringSecrets:
    """SecretStore over the `keyring` package; never the source of a traceback."""

    def _backend(self) -> object:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        inner = getattr(backend, "backends", None)
        if isinstance(backend, fail.Keyring) or inner == []:
            raise AuthError("no usable keyring backend on this machine", hint=NO_BACKEND_HINT)
        return backend

    def available(self) -> bool:
        try:
            self._backend()
        except AuthError:
            return False
        return True

    def get(self, account: str) -> str | None:
        import keyring.errors

        backend = self._backend()
        try:
            value = backend.get_password(SERVICE, account)  # type: ignore[attr-defined]
        except keyring.errors.KeyringError as exc:
            raise AuthError(
                f"the keyring could not be read ({type(exc).__name__})", hint=NO_BACKEND_HINT
            ) from exc
        return value if isinstance(value, str) else None

    def set(self, account: str, secret: str) -> None:
        import keyring.errors

        backend = self._backend()
        try:
            backend.set_password(SERVICE, account, secret)  # type: ignore[attr-defined]
        except keyring.errors.KeyringError as exc:
            raise AuthError(
                f"the keyring refused to store the token ({type(exc).__name__})",
                hint=NO_BACKEND_HINT,
            ) from exc

    def delete(self, account: str) -> None:
        import keyring.errors

        try:
            backend = self._backend()
            backend.delete_password(SERVICE, account)  # type: ignore[attr-defined]
        except (AuthError, keyring.errors.PasswordDeleteError):
            return
        except keyring.errors.KeyringError as exc:
            raise AuthError(
                f"the keyring refused to delete the token ({type(exc).__name__})",
                hint="remove the entry for service 'testkase' with your keyring tool",
            ) from exc
