"""Jira Server/DC listings stay exact while issues change, and never page by offset.

Offset pages shift when an issue is edited, deleted or leaves the filter meanwhile (an
issue is skipped), and Data Center refuses offsets past its search window (10,000): the
listing reads id ranges from offset 0 instead, and reads again what changed meanwhile.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator

import pytest
from jira_env import JiraEnv, start_env

from testkase_cli.sandbox.core import Request, Response, Server

SEARCH = "/rest/api/2/search"


class Hook:
    """Runs `before(n, jql)` ahead of the n-th search request and records every request."""

    def __init__(self, env: JiraEnv) -> None:
        self.inner = env.app.dispatch
        self.lock = threading.Lock()
        self.searches: list[tuple[str, str]] = []  # (startAt, jql)
        self.before: Callable[[int, str], None] = lambda _n, _jql: None
        env.app.dispatch = self.dispatch  # type: ignore[method-assign]

    def dispatch(self, request: Request) -> Response:
        if request.path == SEARCH:
            jql = request.arg("jql") or ""
            with self.lock:
                self.searches.append((request.arg("startAt") or "0", jql))
                number = len(self.searches)
            self.before(number, jql)
        return self.inner(request)

    def control(self, method: str, path: str, body: object = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        answer = self.inner(Request(method, f"/_sandbox/{path}", {}, {}, raw))
        assert answer.status < 300


@pytest.fixture
def env() -> Iterator[JiraEnv]:
    server: list[Server] = []

    def serve(app: object) -> str:
        server.append(Server(app))  # type: ignore[arg-type]
        return server[-1].start()

    jira = start_env(serve, "server", seed=3)
    jira.post("seed", {"count": 2_500, "seed": 9, "labels": ["bulk"]})
    yield jira
    jira.close()
    server[0].stop()


def test_issues_changed_during_the_listing_are_neither_skipped_nor_stale(env: JiraEnv) -> None:
    requirements = sorted((r["id"] for r in env.issues() if r["key"].startswith("PROJ-")), key=int)
    hook = Hook(env)
    gone, edited = requirements[100], requirements[1]

    def meanwhile(number: int, jql: str) -> None:
        # After the first page and the first id range were read: an issue already read is
        # deleted (every later offset would shift by one) and another one is edited.
        if number == 3:
            hook.control("DELETE", f"issues/{gone}")
            hook.control("PATCH", f"issues/{edited}", {"title": "Edited mid-listing"})

    hook.before = meanwhile
    listed = list(env.tracker.iter_requirements(updated_since=None))
    ids = [issue.id for issue in listed]
    assert set(ids) - {gone} == set(requirements) - {gone}  # read before it went, or not
    assert len(ids) == len(set(ids)) + 1  # the edited issue, read again
    assert [i.title for i in listed if i.id == edited][-1] == "Edited mid-listing"
    assert {start for start, _ in hook.searches} == {"0"}
    assert any("updated >=" in jql for _, jql in hook.searches)  # the catch-up round


def test_a_deleted_anchor_is_replaced_by_an_earlier_id_of_its_page(env: JiraEnv) -> None:
    expected = {row["id"] for row in env.issues("bulk")}
    hook = Hook(env)
    deleted: list[str] = []

    def meanwhile(number: int, jql: str) -> None:
        anchor = re.search(r"id > (\d+)", jql)
        if anchor and not deleted:  # the issue the next range starts after is deleted
            deleted.append(anchor[1])
            hook.control("DELETE", f"issues/{anchor[1]}")

    hook.before = meanwhile
    ids = list(env.tracker.iter_requirement_ids())
    assert deleted
    assert set(ids) >= expected - set(deleted)
    assert len(ids) == len(set(ids))
