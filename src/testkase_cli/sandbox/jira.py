"""A Jira emulator: Cloud (REST v3 + v2, enhanced search) and Server/Data Center 9 (v2).

It follows api-notes/jira.md: paths, shapes, status codes and error bodies, Cloud's
token-paged, eventually consistent search and Server's offset paging, the restricted
workflow, Basic (Cloud) and PAT (Server) auth, and 429s with Jira's rate-limit headers.
REST handlers live in `jira_routes.py`, the `/_sandbox/` control API in `jira_control.py`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from testkase_cli.sandbox.core import App, Request, Response, json_response
from testkase_cli.sandbox.jira_api import ApiError, Ctx, Handler, errors, unauthorized
from testkase_cli.sandbox.jira_control import register_control
from testkase_cli.sandbox.jira_jql import JqlError
from testkase_cli.sandbox.jira_routes import route as resource_routes
from testkase_cli.sandbox.jira_search import route as search_routes
from testkase_cli.sandbox.jira_seed import seed_default
from testkase_cli.sandbox.jira_store import SANDBOX_EMAIL, SANDBOX_TOKEN, TESTER, JiraState, User

FLAVORS = ("cloud", "server")


class JiraApp(App):
    """The emulated instance; `state` is guarded by `lock`."""

    def __init__(self, *, flavor: str, seed: int, latency_ms: int = 0) -> None:
        super().__init__(latency_ms=latency_ms)
        self.state = JiraState(flavor)
        seed_default(self.state, seed)
        for method, pattern, handler, anonymous in [
            *resource_routes.routes,
            *search_routes.routes,
        ]:
            self.route(method, pattern)(self._bind(handler, anonymous=anonymous))
        register_control(self)

    @property
    def cloud(self) -> bool:
        return self.state.flavor == "cloud"

    def _bind(self, handler: Handler, *, anonymous: bool) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            if not self.cloud and request.params.get("v") == "3":
                return self.not_found(request)
            key = f"{request.method} {request.path}"
            with self.lock:
                deny = list(self.state.config.deny)
            if any(re.fullmatch(p, key) for p in deny):
                return errors(403, "You do not have permission to perform this operation.").response
            ctx = Ctx(self, request, self._caller(request))
            try:
                if not anonymous:
                    ctx.require_user()
                with self.lock:
                    return handler(self, request, ctx)
            except ApiError as exc:
                return exc.response
            except JqlError as exc:
                return errors(400, exc.message).response

        return run

    def _caller(self, request: Request) -> User | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if self.cloud and scheme.lower() == "basic":
            try:
                email, _, token = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            if email == SANDBOX_EMAIL and token == SANDBOX_TOKEN:
                return TESTER
        if not self.cloud and scheme.lower() == "bearer" and value == SANDBOX_TOKEN:
            return TESTER
        return None

    def authenticate(self, request: Request) -> Response | None:
        """Wrong credentials are refused everywhere; no credentials mean anonymous."""
        if request.headers.get("authorization") and self._caller(request) is None:
            return unauthorized(self.cloud, json_ok="json" in request.headers.get("accept", ""))
        return None

    def not_found(self, request: Request) -> Response:
        body = {"message": f"null for uri: {self.base_url}{request.path}", "status-code": 404}
        return json_response(404, body)

    def rate_limited(self, retry_after_s: int) -> Response:
        headers = {
            "Retry-After": str(retry_after_s),
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
        }
        if self.cloud:
            with self.lock:
                now = self.state.clock.now_ms()
            reset = datetime.fromtimestamp(now / 1000, UTC) + timedelta(seconds=retry_after_s)
            headers["X-RateLimit-Reset"] = f"{reset + timedelta(seconds=59):%Y-%m-%dT%H:%M}Z"
            headers["RateLimit-Reason"] = "jira-burst-based"
        else:
            headers["X-RateLimit-Interval-Seconds"] = "1"
            headers["X-RateLimit-FillRate"] = "10"
        return Response(
            429, raw=b"Rate limit exceeded.", headers=headers, content_type="text/plain"
        )


def create_app(*, flavor: str = "cloud", seed: int = 1, latency_ms: int = 0) -> JiraApp:
    """A seeded Jira emulator (`flavor` "cloud" or "server"); serve it with core.Server."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown Jira flavour {flavor!r}: use cloud or server")
    return JiraApp(flavor=flavor, seed=seed, latency_ms=latency_ms)
