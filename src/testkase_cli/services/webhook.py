"""`testkase webhook serve`: Jira and GitLab webhooks in, a prompt sync out.

A delivery is answered at once (trackers want a fast 2xx) and only schedules a sync:
`SyncTrigger` coalesces the deliveries of a short window into one run of
`services.sync.run`, and a delivery that arrives while a sync runs schedules one more run
after it. Secrets: GitLab sends the shared secret verbatim in `X-Gitlab-Token`; Jira
signs the raw body, `X-Hub-Signature: sha256=<hex HMAC-SHA256>`. Both are compared in
constant time; anything else is 401 and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from testkase_cli.domain.models import ConnectionSettings
from testkase_cli.errors import KaseError, LockedError, UsageError

SECRET_ENV = "TESTKASE_WEBHOOK_SECRET"
MAX_BODY = 1024 * 1024
"""Largest delivery accepted (1 MiB); bigger ones get 413 unread."""
COALESCE_S = 0.3
"""Deliveries within this window after the first one share one sync."""
LOCKED_RETRY_S = 1.0
REMEMBERED_DELIVERIES = 10_000

GITLAB_EVENTS = {"Issue Hook", "Confidential Issue Hook", "Note Hook", "Confidential Note Hook"}
JIRA_PREFIXES = ("jira:issue_", "comment_")

Log = Callable[[str], None]


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Event:
    platform: str
    kind: str
    issue: str


def secret_from(env: Mapping[str, str]) -> str:
    secret = env.get(SECRET_ENV, "")
    if not secret.strip():
        raise UsageError(
            f"{SECRET_ENV} is not set: webhooks cannot be verified without a shared secret",
            hint=f"export {SECRET_ENV}=<a long random string> and give the tracker the same "
            "secret (docs/operations.md)",
        )
    return secret


def authenticate(headers: Mapping[str, str], body: bytes, secret: str) -> str | None:
    """The platform whose secret check `headers` pass ("gitlab", "jira"), else None.

    `headers` have lower-case names."""
    token = headers.get("x-gitlab-token")
    if token is not None:
        return "gitlab" if hmac.compare_digest(token.encode(), secret.encode()) else None
    signature = headers.get("x-hub-signature") or headers.get("x-hub-signature-256")
    if signature is None:
        return None
    algorithm, _, given = signature.strip().partition("=")
    if algorithm.lower() != "sha256":
        return None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return (
        "jira" if hmac.compare_digest(given.strip().lower().encode(), expected.encode()) else None
    )


def delivery_id(platform: str, headers: Mapping[str, str]) -> str | None:
    if platform == "jira":
        found = headers.get("x-atlassian-webhook-identifier")
    else:
        found = headers.get("idempotency-key") or headers.get("x-gitlab-event-uuid")
    return f"{platform}:{found.strip()}" if found and found.strip() else None


def interpret(
    platform: str, headers: Mapping[str, str], payload: dict[str, Any], conn: ConnectionSettings
) -> Event | str:
    """The issue event `payload` reports for the connected project, or why it is ignored."""
    if platform != conn.platform:
        return f"a {platform} delivery, but this project syncs with {conn.platform}"
    if platform == "gitlab":
        return _gitlab(headers, payload, conn)
    return _jira(payload, conn)


def _gitlab(
    headers: Mapping[str, str], payload: dict[str, Any], conn: ConnectionSettings
) -> Event | str:
    event = headers.get("x-gitlab-event", "")
    kind = str(payload.get("object_kind") or "")
    if event not in GITLAB_EVENTS or kind not in ("issue", "note"):
        return f"not an issue event ({event or kind or 'unknown'})"
    attributes = _dict(payload.get("object_attributes"))
    if kind == "note":
        if attributes.get("noteable_type") != "Issue":
            return "a comment on something other than an issue"
        issue = _dict(payload.get("issue"))
    else:
        issue = attributes
    project = _dict(payload.get("project"))
    wanted = (conn.project or "").strip().casefold()
    names = {str(project.get("id", "")), str(project.get("path_with_namespace", "")).casefold()}
    if wanted and project and wanted not in names:
        return f"another project ({project.get('path_with_namespace') or project.get('id')})"
    ref = issue.get("iid") or issue.get("id")
    return Event("gitlab", f"{kind}:{attributes.get('action') or 'update'}", f"#{ref}")


def _jira(payload: dict[str, Any], conn: ConnectionSettings) -> Event | str:
    kind = str(payload.get("webhookEvent") or "")
    if not kind.startswith(JIRA_PREFIXES):
        return f"not an issue event ({kind or 'unknown'})"
    issue = _dict(payload.get("issue"))
    key = str(issue.get("key") or "")
    if not key:
        return "no issue in the delivery"
    wanted = (conn.project or "").strip().upper()
    projects = {key.rpartition("-")[0].upper()}
    for item in _dict(payload.get("changelog")).get("items") or []:
        if isinstance(item, dict) and item.get("field") == "Key":  # moved out of PROJ
            projects.add(str(item.get("fromString") or "").rpartition("-")[0].upper())
    if wanted and wanted not in projects:
        return f"another project ({key})"
    return Event("jira", kind, key)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Deliveries:
    """The delivery ids seen lately, to drop at-least-once duplicates."""

    def __init__(self, size: int = REMEMBERED_DELIVERIES) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return False
            self._seen[key] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return True


class SyncTrigger:
    """Runs `sync` in one background thread when asked; requests coalesce."""

    def __init__(
        self,
        sync: Callable[[], object],
        log: Log,
        *,
        window_s: float = COALESCE_S,
        retry_s: float = LOCKED_RETRY_S,
    ) -> None:
        self._sync = sync
        self._log = log
        self._window = window_s
        self._retry = retry_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="testkase-sync", daemon=True)
        self.runs = 0
        self.crashed: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            while True:
                self._wake.wait()
                if self._stopping.is_set():
                    return
                self._stopping.wait(self._window)
                self._wake.clear()
                if self._stopping.is_set():
                    return
                self._run_once()
        except BaseException as exc:  # a bug: let serve() end with it instead of idling
            self.crashed = exc
            raise

    def _run_once(self) -> None:
        try:
            self._sync()
            self.runs += 1
        except LockedError:
            self._log(f"another sync is running; trying again in {self._retry:g} s")
            self._stopping.wait(self._retry)
            self._wake.set()
        except KaseError as error:
            self._log(f"sync failed: {error.message}")


class Receiver:
    """Turns one HTTP delivery into a reply, scheduling a sync when it matters."""

    def __init__(
        self, secret: str, conn: ConnectionSettings, trigger: SyncTrigger, log: Log
    ) -> None:
        self._secret = secret
        self._conn = conn
        self._trigger = trigger
        self._log = log
        self._deliveries = Deliveries()

    def handle(self, headers: Mapping[str, str], body: bytes, client: str = "") -> Reply:
        if len(body) > MAX_BODY:
            return Reply(413, {"error": f"body over {MAX_BODY} bytes"})
        platform = authenticate(headers, body, self._secret)
        if platform is None:
            self._log(f"refused a delivery from {client or 'unknown'}: bad or missing secret")
            return Reply(401, {"error": "unauthorized"})
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return Reply(400, {"error": "the body is not JSON"})
        if not isinstance(payload, dict):
            return Reply(400, {"error": "the body is not a JSON object"})
        delivery = delivery_id(platform, headers)
        if delivery is not None and not self._deliveries.first_time(delivery):
            return Reply(200, {"status": "duplicate"})
        event = interpret(platform, headers, payload, self._conn)
        if isinstance(event, str):
            return Reply(200, {"status": "ignored", "reason": event})
        self._log(f"{event.platform} {event.kind} on {event.issue}: sync scheduled")
        self._trigger.request()
        return Reply(202, {"status": "accepted", "issue": event.issue})
