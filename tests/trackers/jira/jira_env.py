"""The Jira test environment: an emulator, a tracker connected to it, its control API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from testkase_cli.domain.models import ConnectionSettings
from testkase_cli.sandbox.core import App
from testkase_cli.sandbox.jira import JiraApp, create_app
from testkase_cli.sandbox.jira_store import SANDBOX_EMAIL, SANDBOX_TOKEN
from testkase_cli.trackers.http import RetryPolicy
from testkase_cli.trackers.jira import JiraTracker, open_jira

FAST = RetryPolicy(attempts=6, base_s=0.01, cap_s=0.05, budget_s=5.0)


def settings(url: str, flavor: str, **overrides: Any) -> ConnectionSettings:
    values: dict[str, Any] = {
        "platform": "jira",
        "url": url,
        "project": "PROJ",
        "deployment": flavor,
        "email": SANDBOX_EMAIL if flavor == "cloud" else None,
        "issue_type": "Bug",
    }
    values.update(overrides)
    return ConnectionSettings(**values)


@dataclass
class JiraEnv:
    """A running emulator, a tracker connected to it, and a client for `/_sandbox/`."""

    flavor: str
    url: str
    app: JiraApp
    tracker: JiraTracker
    control: httpx.Client

    def tracker_for(self, token: str = SANDBOX_TOKEN, **overrides: Any) -> JiraTracker:
        tracker = open_jira(settings(self.url, self.flavor, **overrides), token, policy=FAST)
        self._extra.append(tracker)
        return tracker

    def post(self, path: str, body: Any = None) -> Any:
        response = self.control.post(f"/_sandbox/{path}", json=body or {})
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def patch(self, issue_id: str, **changes: Any) -> Any:
        response = self.control.patch(f"/_sandbox/issues/{issue_id}", json=changes)
        assert response.status_code == 200, response.text
        return response.json()

    def issues(self, label: str | None = None) -> list[dict[str, Any]]:
        params = {"label": label} if label else None
        rows: list[dict[str, Any]] = self.control.get("/_sandbox/issues", params=params).json()
        return rows

    def issue(self, issue_id: str) -> dict[str, Any]:
        return next(row for row in self.issues() if row["id"] == issue_id)

    def config(self, **knobs: Any) -> Any:
        return self.post("config", knobs)

    def faults(self, **knobs: Any) -> Any:
        return self.post("faults", knobs)

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.control.get("/_sandbox/stats").json()
        return data

    _extra: list[JiraTracker]

    def close(self) -> None:
        for tracker in [self.tracker, *self._extra]:
            tracker.close()
        self.control.close()


def start_env(serve: Callable[[App], str], flavor: str, *, seed: int = 7) -> JiraEnv:
    """Serve a fresh emulator of `flavor` and connect a tracker to it."""
    app = create_app(flavor=flavor, seed=seed)
    url = serve(app)
    tracker = open_jira(settings(url, flavor), SANDBOX_TOKEN, policy=FAST)
    return JiraEnv(flavor, url, app, tracker, httpx.Client(base_url=url, timeout=30), [])
