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

from testkase_cli.errors import UsageError
from testkase_cli.sandbox.core import Request, Response, Server, json_response

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


@pytest.mark.parametrize(
    ("bound", "listing"),
    [
        # The issue the next id range starts after: an earlier id of its page replaces it.
        (r"id > (\d+)", lambda env: [str(ref) for ref in env.tracker.iter_requirement_ids()]),
        # The id cutting the listing into segments: that segment reads on to the end.
        (
            r"id <= (\d+)",
            lambda env: [i.id for i in env.tracker.iter_requirements(updated_since=None)],
        ),
    ],
    ids=["anchor", "segment-end"],
)
def test_a_bound_deleted_meanwhile_neither_fails_nor_skips(
    env: JiraEnv, bound: str, listing: Callable[[JiraEnv], list[str]]
) -> None:
    expected = {r["id"] for r in env.issues() if r["key"].startswith("PROJ-")}
    hook = Hook(env)
    deleted: list[str] = []

    def meanwhile(number: int, jql: str) -> None:
        found = re.search(bound, jql)
        if found and not deleted:  # Data Center refuses a bound naming a deleted issue
            deleted.append(found[1])
            hook.control("DELETE", f"issues/{found[1]}")

    hook.before = meanwhile
    ids = listing(env)
    assert deleted
    assert set(ids) - set(deleted) == expected - set(deleted)
    assert len(ids) == len(set(ids))


def test_a_refused_segment_page_ends_the_listing_with_that_error(env: JiraEnv) -> None:
    hook = Hook(env)
    inner = hook.inner

    def refuse_one(request: Request) -> Response:
        if request.path == SEARCH and "id <= " in (request.arg("jql") or ""):
            return json_response(400, {"errorMessages": ["The search was refused."], "errors": {}})
        return inner(request)

    hook.inner = refuse_one
    with pytest.raises(UsageError, match="The search was refused"):
        list(env.tracker.iter_requirements(updated_since=None))


def test_stopping_during_the_segments_ends_cleanly(env: JiraEnv) -> None:
    listing = env.tracker.iter_requirements(updated_since=None)
    taken = [issue.id for _, issue in zip(range(1_500), listing, strict=False)]
    listing.close()  # the segment readers stop; a hang fails by the test timeout
    assert len(taken) == len(set(taken)) == 1_500
    assert threading.active_count() == 1 + sum(t.daemon for t in threading.enumerate())
