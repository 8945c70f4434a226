"""GitLab error responses -> KaseError with the hint a user can act on (SPEC section 7).

GitLab answers in four envelopes (api-notes section 9): `{"message": str|object}`,
`{"error": str}`, the OAuth pair `{"error","error_description"}`, and plain text or HTML
from Rack::Attack and the front-end proxy. Messages never carry the token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx

from testkase_cli.errors import (
    AuthError,
    KaseError,
    NotFoundError,
    RejectedError,
    UnreachableError,
)
from testkase_cli.trackers.http import describe_status, retry_after_seconds


def make_translate(instance_url: str) -> Callable[[httpx.Response], KaseError]:
    """The Funnel's `translate` callback for one instance (its URL goes into hints)."""
    tokens_page = f"{instance_url}/-/user_settings/personal_access_tokens"
    reconnect = f"then run `testkase connect gitlab --url {instance_url}` (or set TESTKASE_TOKEN)"

    def translate(response: httpx.Response) -> KaseError:
        status = response.status_code
        body = _body(response)
        error = str(body.get("error") or "")
        description = str(body.get("error_description") or "")
        message = body.get("message")
        where = f"{response.request.method} {unquote(response.request.url.path)}"
        if status == 401:
            if error == "invalid_token" and "expired" in description.lower():
                return AuthError(
                    "the GitLab token has expired",
                    hint=f"create a new personal access token with the api scope at "
                    f"{tokens_page}, {reconnect}",
                    code="token_expired",
                )
            if error == "invalid_token" and "revoked" in description.lower():
                return AuthError(
                    "the GitLab token was revoked",
                    hint=f"someone revoked or rotated it; create a new token with the api "
                    f"scope at {tokens_page}, {reconnect}",
                    code="token_revoked",
                )
            return AuthError(
                "GitLab does not recognise the token (401 Unauthorized)",
                hint=f"check that the whole token was pasted and that it was made on "
                f"{instance_url} (a gitlab.com token does not work on a self-managed "
                f"instance); tokens live at {tokens_page}",
                code="token_invalid",
            )
        if status == 403:
            if error == "insufficient_scope":
                return AuthError(
                    "the GitLab token lacks the scope for this request (insufficient_scope)",
                    hint=f"testkase writes issues, labels and comments: it needs a token with "
                    f"the `api` scope (read_api only reads); create one at {tokens_page}, "
                    f"{reconnect}",
                    code="insufficient_scope",
                )
            return RejectedError(
                f"GitLab refused {where}: 403 Forbidden",
                hint="your role in the project does not allow it (editing issues needs "
                "Reporter or higher, deleting needs Owner); fine-grained tokens also answer "
                "403 for what they do not cover",
                code="forbidden",
            )
        if status == 404:
            return _not_found(response, message, error, instance_url)
        if status == 429:
            wait = retry_after_seconds(response)
            after = f" (it asks to wait {wait:.0f} s)" if wait is not None else ""
            return UnreachableError(
                f"GitLab is rate limiting requests (429){after}",
                hint="wait a minute and run the command again; nothing was lost, the next "
                "sync resumes the work",
                code="rate_limited",
            )
        if status >= 500:
            if _is_html(response):
                text = (
                    f"GitLab answered {status} with an error page: the instance or its "
                    "proxy is down or overloaded"
                )
            else:
                text = f"GitLab failed on {where}: {describe_status(response)}"
            return UnreachableError(
                text,
                hint=f"check {instance_url} in a browser and try again later; nothing was lost",
                code="server_error",
            )
        reason = describe_status(response)
        if status == 409:
            return RejectedError(f"GitLab refused {where}: {reason}", code="conflict")
        return RejectedError(
            f"GitLab rejected {where} ({status}): {reason}",
            hint="the tracker's reason is above; fix the value and run the command again",
            code="validation" if status in (400, 422) else "rejected",
        )

    return translate


def _not_found(response: httpx.Response, message: Any, error: str, instance_url: str) -> KaseError:
    path = unquote(response.request.url.path)
    if message == "404 Project Not Found":
        project = _project_in(path)
        return NotFoundError(
            f"GitLab project {project!r} not found",
            hint="GitLab answers 404 both for a typo and for a project the token cannot see: "
            "check the path (group/subgroup/project) or numeric id, and that the token's "
            "user is a member of the project",
            code="project_not_found",
        )
    if error == "404 Not Found":
        return NotFoundError(
            f"{instance_url} has no API route {path}",
            hint="check that --url is the GitLab instance root (e.g. https://gitlab.example.com), "
            "not a project or group page",
            code="route_not_found",
        )
    text = message if isinstance(message, str) else describe_status(response)
    return NotFoundError(f"GitLab: {text} ({path})", code="not_found")


def _project_in(path: str) -> str:
    marker = "/projects/"
    if marker not in path:
        return path
    rest = path.split(marker, 1)[1]
    for tail in ("/issues", "/labels"):
        if tail in rest:
            rest = rest.split(tail, 1)[0]
    return rest


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _is_html(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return "html" in kind or response.text.lstrip().startswith("<")
