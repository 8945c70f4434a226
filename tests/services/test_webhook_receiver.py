"""services.webhook without HTTP: secrets, payload interpretation on the published samples,
de-duplication, and the trigger that coalesces deliveries into syncs."""

from __future__ import annotations

import threading
import time

import pytest
from tests.services.webhook_helpers import (
    SECRET,
    encode,
    gitlab_headers,
    gitlab_issue,
    jira_headers,
    jira_issue,
    sample,
)

from testkase_cli.domain.models import ConnectionSettings
from testkase_cli.errors import LockedError, UsageError
from testkase_cli.services.webhook import (
    MAX_BODY,
    Receiver,
    SyncTrigger,
    authenticate,
    secret_from,
)

GITLAB = ConnectionSettings(platform="gitlab", url="https://gitlab.example", project="demo/web")
JIRA = ConnectionSettings(platform="jira", url="https://acme.atlassian.net", project="PROJ")


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class CountingTrigger(SyncTrigger):
    def __init__(self) -> None:
        super().__init__(lambda: None, lambda _m: None)
        self.requests = 0

    def request(self) -> None:
        self.requests += 1


def receiver(conn: ConnectionSettings) -> tuple[Receiver, CountingTrigger, list[str]]:
    logs: list[str] = []
    trigger = CountingTrigger()
    return Receiver(SECRET, conn, trigger, logs.append), trigger, logs


def test_the_secret_must_be_set() -> None:
    with pytest.raises(UsageError) as caught:
        secret_from({"TESTKASE_WEBHOOK_SECRET": "  "})
    assert "TESTKASE_WEBHOOK_SECRET is not set" in caught.value.message
    assert secret_from({"TESTKASE_WEBHOOK_SECRET": "x"}) == "x"


def test_gitlab_token_and_jira_signature() -> None:
    body = b'{"a": 1}'
    assert authenticate(lower(gitlab_headers()), body, SECRET) == "gitlab"
    assert authenticate(lower(gitlab_headers("wrong")), body, SECRET) is None
    assert authenticate(lower(gitlab_headers(SECRET + "x")), body, SECRET) is None
    assert authenticate(lower(jira_headers(body)), body, SECRET) == "jira"
    assert authenticate(lower(jira_headers(body)), body + b" ", SECRET) is None
    assert authenticate(lower(jira_headers(body, "wrong")), body, SECRET) is None
    sha1 = {"x-hub-signature": "sha1=" + "0" * 40}
    assert authenticate(sha1, body, SECRET) is None
    assert authenticate({}, body, SECRET) is None


def test_gitlab_samples_schedule_a_sync_once_per_delivery() -> None:
    rx, trigger, _ = receiver(GITLAB)
    headers = lower(gitlab_headers(delivery="d-1"))
    reply = rx.handle(headers, encode(gitlab_issue("5001", "1")))
    assert (reply.status, reply.body) == (202, {"status": "accepted", "issue": "#1"})
    again = rx.handle(headers, encode(gitlab_issue("5001", "1")))
    assert (again.status, again.body["status"]) == (200, "duplicate")
    note = sample("gitlab_note_hook_issue.json")
    note["project"]["path_with_namespace"] = "demo/web"
    reply = rx.handle(lower(gitlab_headers(event="Note Hook")), encode(note))
    assert reply.status == 202
    other = rx.handle(lower(gitlab_headers()), encode(gitlab_issue("9", "9", "other/repo")))
    assert other.status == 200 and "another project" in other.body["reason"]
    push = rx.handle(lower(gitlab_headers(event="Push Hook")), b'{"object_kind": "push"}')
    assert push.status == 200 and push.body["status"] == "ignored"
    assert trigger.requests == 2


def test_jira_samples_schedule_a_sync() -> None:
    rx, trigger, _ = receiver(JIRA)
    for payload in (
        jira_issue("10001", "PROJ-1"),
        sample("jira_cloud_comment_created.json") | {"issue": {"id": "1", "key": "PROJ-7"}},
    ):
        body = encode(payload)
        assert rx.handle(lower(jira_headers(body)), body).status == 202
    foreign = encode(sample("jira_cloud_issue_updated_minimal.json"))  # JIRATEST1-14
    reply = rx.handle(lower(jira_headers(foreign)), foreign)
    assert reply.status == 200 and "another project" in reply.body["reason"]
    moved = jira_issue("10002", "OTHER-5")
    moved["changelog"] = {
        "items": [{"field": "Key", "fromString": "PROJ-2", "toString": "OTHER-5"}]
    }
    body = encode(moved)
    assert rx.handle(lower(jira_headers(body)), body).status == 202  # moved out: sync it
    server = encode(sample("jira_server_comment_created.json"))
    assert rx.handle(lower(jira_headers(server)), server).status == 200
    gitlab_on_jira = rx.handle(lower(gitlab_headers()), encode(gitlab_issue("1", "1")))
    assert gitlab_on_jira.status == 200 and "syncs with jira" in gitlab_on_jira.body["reason"]
    assert trigger.requests == 3


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b"{}", 401),
        ({"x-gitlab-token": "nope"}, b"{}", 401),
        ({"x-gitlab-token": SECRET}, b"\xff\xfe not json", 400),
        ({"x-gitlab-token": SECRET}, b"[1, 2]", 400),
        ({"x-gitlab-token": SECRET}, b"x" * (MAX_BODY + 1), 413),
    ],
    ids=["no-secret", "wrong-secret", "garbage", "not-an-object", "oversize"],
)
def test_refusals_schedule_nothing(headers: dict[str, str], body: bytes, status: int) -> None:
    rx, trigger, _ = receiver(GITLAB)
    assert rx.handle(headers, body).status == status
    assert trigger.requests == 0


def test_trigger_coalesces_and_reruns_after_a_running_sync() -> None:
    started = threading.Event()
    release = threading.Event()
    runs: list[float] = []

    def sync() -> None:
        runs.append(time.monotonic())
        started.set()
        release.wait(5)

    trigger = SyncTrigger(sync, lambda _m: None, window_s=0.05)
    trigger.start()
    try:
        for _ in range(5):
            trigger.request()
        assert started.wait(2)
        for _ in range(3):  # while the first sync runs: one more sync after it
            trigger.request()
        release.set()
        deadline = time.monotonic() + 2
        while trigger.runs < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert trigger.runs == 2
        assert len(runs) == 2
    finally:
        trigger.stop()


def test_trigger_retries_when_another_sync_holds_the_lock() -> None:
    attempts: list[int] = []
    logs: list[str] = []

    def sync() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise LockedError("another sync of project 'web' is running")

    trigger = SyncTrigger(sync, logs.append, window_s=0.01, retry_s=0.05)
    trigger.start()
    try:
        trigger.request()
        deadline = time.monotonic() + 2
        while trigger.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(attempts) == 2 and trigger.runs == 1
        assert "another sync is running" in logs[0]
    finally:
        trigger.stop()
