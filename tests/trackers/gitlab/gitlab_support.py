"""Helpers shared by the GitLab adapter tests (imported by conftest and the tests)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from testkase_cli.sandbox.gitlab import SANDBOX_TOKEN
from testkase_cli.trackers.gitlab import GitLabTracker
from testkase_cli.trackers.http import RetryPolicy

FAST = RetryPolicy(attempts=6, base_s=0.01, cap_s=0.05, budget_s=5.0)
TrackerFactory = Callable[..., GitLabTracker]


class Control:
    """The emulator's `/_sandbox/` control API and authenticated raw reads."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("PRIVATE-TOKEN", token)
        with urllib.request.urlopen(request) as response:  # loopback emulator only
            raw = response.read()
        return json.loads(raw) if raw else None

    def api(self, path: str) -> Any:
        return self.call("GET", f"/api/v4{path}", token=SANDBOX_TOKEN)

    def issues(self, label: str | None = None) -> list[dict[str, Any]]:
        query = "" if label is None else f"?label={label}"
        result: list[dict[str, Any]] = self.call("GET", f"/_sandbox/issues{query}")
        return result

    def issue(self, issue_id: str) -> dict[str, Any]:
        return next(i for i in self.issues() if i["id"] == issue_id)

    def faults(self, **faults: Any) -> None:
        self.call("POST", "/_sandbox/faults", faults)

    def config(self, **knobs: Any) -> None:
        self.call("POST", "/_sandbox/config", knobs)

    def clock(self, **change: Any) -> str:
        now: str = self.call("POST", "/_sandbox/clock", change)["now"]
        return now
