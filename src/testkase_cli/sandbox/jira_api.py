"""Request plumbing shared by the Jira emulator's REST handlers: errors, context, arguments.

`JiraApp` binds the handlers of `jira_routes.py`, checks credentials, and holds its lock
while they run; a handler raises `ApiError` to answer with an error.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from testkase_cli.sandbox.core import Request, Response, json_response
from testkase_cli.sandbox.jira_render import FieldSelection, Renderer
from testkase_cli.sandbox.jira_store import Issue, User

if TYPE_CHECKING:
    from testkase_cli.sandbox.jira import JiraApp

CLOUD_401 = "Client must be authenticated to access this resource."

Handler = Callable[["JiraApp", Request, "Ctx"], Response]


class ApiError(Exception):
    """Raised by a handler to answer with `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def errors(status: int, /, *messages: str, **fields: str) -> ApiError:
    """Jira's standard error body `{"errorMessages": [...], "errors": {...}}`."""
    return ApiError(json_response(status, {"errorMessages": list(messages), "errors": fields}))


def unauthorized(cloud: bool, *, json_ok: bool) -> Response:
    """401 as Jira sends it: not the standard error shape (api-notes §2)."""
    headers = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
    if cloud:
        headers["WWW-Authenticate"] = 'Basic realm="protected-area"'
        if json_ok:
            return json_response(401, {"message": CLOUD_401, "status-code": 401}, **headers)
        return Response(401, raw=CLOUD_401.encode(), headers=headers, content_type="text/plain")
    page = b"<html><head><title>Unauthorized (401)</title></head><body>Unauthorized</body></html>"
    return Response(401, raw=page, headers=headers, content_type="text/html;charset=UTF-8")


class Ctx:
    """Per-request context: API version, caller (None: anonymous) and renderer."""

    def __init__(self, app: JiraApp, request: Request, user: User | None) -> None:
        self.app = app
        self.state = app.state
        self.version = request.params.get("v", "2")
        self.user = user
        self.r = Renderer(app.state, app.base_url, self.version)
        self.cloud = app.state.flavor == "cloud"

    def require_user(self) -> User:
        if self.user is None:
            raise ApiError(unauthorized(self.cloud, json_ok=True))
        return self.user

    def issue(self, id_or_key: str) -> Issue:
        issue = self.state.find(id_or_key) if self.user is not None else None
        if issue is None:
            message = (
                "Issue does not exist or you do not have permission to see it."
                if self.cloud
                else "Issue Does Not Exist"
            )
            raise errors(404, message)
        return issue


class Router:
    """Collects a module's REST handlers for `/rest/api/{2|3}` + path (`JiraApp` binds them)."""

    API = r"/rest/api/(?P<v>[23])"

    def __init__(self) -> None:
        self.routes: list[tuple[str, str, Handler, bool]] = []

    def __call__(
        self, method: str, path: str, *, anonymous: bool = False, only: str | None = None
    ) -> Callable[[Handler], Handler]:
        """Register a handler; `only` restricts it to one flavour (else 404 as Jira does)."""

        def register(fn: Handler) -> Handler:
            def guarded(app: JiraApp, request: Request, ctx: Ctx) -> Response:
                if only is not None and app.state.flavor != only:
                    return app.not_found(request)
                return fn(app, request, ctx)

            self.routes.append((method, self.API + path, guarded if only else fn, anonymous))
            return fn

        return register


def int_arg(request: Request, name: str, default: int) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise errors(400, f"The '{name}' parameter must be a number.") from exc


def list_arg(request: Request, name: str) -> list[str]:
    return [v for raw in request.query.get(name, []) for v in raw.split(",") if v]


def body_of(request: Request) -> dict[str, Any]:
    try:
        data = request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise errors(400, "Unexpected character in the request body.") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors(400, "Can not deserialize the request body.")
    return data


def as_list(value: Any) -> list[str]:
    """A POST body's list-or-comma-string parameter."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return [str(v) for v in value]


def selection(raw: list[str], default: str, flavor: str) -> FieldSelection:
    return FieldSelection.parse(raw or [default], flavor=flavor)


def page_token(last_key: tuple[int, ...], jql: str) -> str:
    raw = json.dumps({"a": list(last_key), "q": zlib.crc32(jql.encode())}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token: str | None, jql: str) -> tuple[int, ...] | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] != zlib.crc32(jql.encode()):
            raise ValueError("token of another query")
        return tuple(int(v) for v in data["a"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise errors(400, "The provided next page token is invalid or expired.") from exc
