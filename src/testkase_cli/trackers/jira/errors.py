"""Jira HTTP errors -> KaseError, with the troubleshooting hints of SPEC section 7."""

from __future__ import annotations

from typing import Any

import httpx

from testkase_cli.errors import (
    AuthError,
    KaseError,
    NotFoundError,
    RejectedError,
    UnreachableError,
)
from testkase_cli.trackers.http import describe_status

CLOUD_401_HINT = (
    "the API token may be expired, or the email does not match the token's account; create a "
    "token at https://id.atlassian.com/manage-profile/security/api-tokens and run "
    "`testkase connect jira` again"
)
SERVER_401_HINT = (
    "the personal access token is invalid or expired; create one in Jira (profile > Personal "
    "Access Tokens) and run `testkase connect jira` again"
)
CLOUD_BEARER_HINT = (
    "this is a Jira Cloud site: it takes the account e-mail and an API token, not a personal "
    "access token; run `testkase connect jira --deployment cloud --email you@example.com`"
)


def error_fields(response: httpx.Response) -> dict[str, str]:
    """The `errors` object of Jira's standard error body (field -> message)."""
    try:
        body: Any = response.json()
    except ValueError:
        return {}
    errors = body.get("errors") if isinstance(body, dict) else None
    return {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {}


class Translator:
    """The Funnel's `translate` callback for one deployment."""

    def __init__(self, deployment: str) -> None:
        self.cloud = deployment == "cloud"

    def __call__(self, response: httpx.Response) -> KaseError:
        status = response.status_code
        if status == 401:
            # The body is not Jira's error shape (text, HTML or {"message"}): never parse it.
            return AuthError(
                "Jira refused the credentials (401)",
                hint=CLOUD_401_HINT if self.cloud else SERVER_401_HINT,
            )
        text = describe_status(response)
        if status == 403:
            if "AUTHENTICATION_DENIED" in response.headers.get("X-Seraph-LoginReason", ""):
                return AuthError(
                    "Jira denied the login (403): too many failed attempts triggered a CAPTCHA",
                    hint="sign in to Jira once in a browser, then run the command again",
                )
            return RejectedError(
                f"Jira refused the operation (403): {text}",
                hint="the token's account lacks the permission for this in the project; "
                "ask a Jira administrator",
                code="forbidden",
            )
        if status == 404:
            return NotFoundError(f"Jira has no such resource (404): {text}")
        if status == 410:
            return RejectedError(
                f"Jira has removed the API testkase called (410): {text}",
                hint="this testkase is too old for this Jira; upgrade testkase",
                code="api_removed",
            )
        if status == 429:
            return UnreachableError(
                "Jira kept rate-limiting the requests (429) past the retry budget",
                hint="wait a few minutes and run the command again; nothing was lost",
            )
        if status >= 500:
            return UnreachableError(
                f"Jira answered {status}: {text}",
                hint="the instance is failing or overloaded; try again later",
            )
        return RejectedError(f"Jira rejected the request ({status}): {text}")


def project_missing(key: str) -> NotFoundError:
    return NotFoundError(
        f"project {key} not found or not visible to this token",
        hint="check the key; `testkase connect jira` lists the projects the token can see",
    )
