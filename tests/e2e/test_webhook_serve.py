"""`webhook serve` end to end: the emulator changes an issue, a signed delivery built from
the published samples arrives over HTTP, and the requirement changes locally within 2 s.
Wrong or missing secrets, oversize and garbage bodies change nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import Tracker
from tests.services.webhook_helpers import (
    SECRET,
    encode,
    gitlab_headers,
    gitlab_issue,
    jira_headers,
    jira_issue,
)

from testkase_cli.cli.context import AppContext
from testkase_cli.cli.webhook import Running, start
from testkase_cli.services.webhook import MAX_BODY


@pytest.fixture
def served(tracker: Tracker, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setenv("TESTKASE_WEBHOOK_SECRET", SECRET)
    assert tracker.sync()["exit"] == 0
    env = AppContext()
    running = start(env, "127.0.0.1", 0)
    try:
        yield running
    finally:
        running.stop()
        env.close()


def delivery(
    tracker: Tracker, issue: dict[str, Any], secret: str | None
) -> tuple[bytes, dict[str, str]]:
    if tracker.platform == "gitlab":
        iid = issue["key"].rpartition("#")[2]
        return encode(gitlab_issue(issue["id"], iid)), gitlab_headers(secret)
    body = encode(jira_issue(issue["id"], issue["key"]))
    return body, jira_headers(body, secret)


def local_title(tracker: Tracker, issue_id: str) -> str:
    for req in tracker.cli("req", "list", "--json").json:
        if req["external"] and req["external"]["id"] == issue_id:
            return str(req["title"])
    raise AssertionError(f"no requirement for issue {issue_id}")


def test_a_signed_delivery_syncs_the_change_within_two_seconds(
    tracker: Tracker, served: Running
) -> None:
    issues = [i for i in tracker.issues() if not i["deleted"]]
    changed, untouched = issues[0], issues[1]
    client = httpx.Client(base_url=served.server.url, timeout=10)
    # Refused deliveries first: wrong secret, no secret, garbage, oversize.
    tracker.edit(untouched["id"], title="Changed, but the delivery is forged")
    for secret in ("not-the-secret", None):
        body, headers = delivery(tracker, untouched, secret)
        assert client.post("/", content=body, headers=headers).status_code == 401
    _, headers = delivery(tracker, untouched, SECRET)
    garbage = b"{not json"
    if tracker.platform != "gitlab":
        headers = jira_headers(garbage)
    assert client.post("/", content=garbage, headers=headers).status_code == 400
    huge = client.post("/", content=b"x" * (MAX_BODY + 1), headers=headers)
    assert huge.status_code == 413
    time.sleep(0.6)  # longer than the coalescing window: a sync would have started
    assert served.trigger.runs == 0
    assert local_title(tracker, untouched["id"]) == untouched["title"]

    tracker.edit(changed["id"], title="Renamed in the tracker")
    body, headers = delivery(tracker, changed, SECRET)
    sent = time.monotonic()
    reply = client.post("/webhook", content=body, headers=headers)
    assert reply.status_code == 202, reply.text
    assert client.post("/webhook", content=body, headers=headers).json() == {"status": "duplicate"}
    while local_title(tracker, changed["id"]) != "Renamed in the tracker":
        assert time.monotonic() - sent < 2.0, "the requirement did not change within 2 s"
        time.sleep(0.05)
    while served.trigger.runs == 0 and time.monotonic() - sent < 5:
        time.sleep(0.02)  # the title is committed before the sync finishes its other steps
    assert served.trigger.runs == 1
    assert client.get("/health").json() == {"status": "ok"}
    client.close()


@pytest.mark.parametrize("tracker", ["gitlab"], indirect=True)
def test_serve_needs_the_secret_and_stops_on_sigterm(
    tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tracker.cli("webhook", "serve", "--port", "0")
    assert missing.code == 2
    assert "TESTKASE_WEBHOOK_SECRET is not set" in missing.err
    monkeypatch.setenv("TESTKASE_WEBHOOK_SECRET", SECRET)
    with subprocess.Popen(
        [sys.executable, "-m", "testkase_cli", "webhook", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.split("listening on ")[1].split("/ ")[0]
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert out == "" and "stopped" in err
