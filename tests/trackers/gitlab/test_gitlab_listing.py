"""Large listings: every issue exactly once, in order, in parallel, past GitLab's 10,000
count cap and its 50,000 offset cap, and exact while issues change during the listing."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from gitlab_support import Control, TrackerFactory

from testkase_cli.domain.models import RemoteIssue
from testkase_cli.sandbox import gitlab_paging
from testkase_cli.sandbox.core import Request, Response
from testkase_cli.sandbox.gitlab import GitLabApp
from testkase_cli.sandbox.gitlab_state import Issue
from testkase_cli.trackers.gitlab import GitLabTracker, listing
from testkase_cli.trackers.gitlab.listing import AHEAD, PROBES, SEGMENT, WORKERS

DEFAULT_TESTABLE = 5
INSTANCES = pytest.mark.parametrize(
    "keyset", [True, False], ids=["keyset-18.3+", "offset-before-18.3"]
)


def seed(control: Control, count: int) -> int:
    control.call("POST", "/_sandbox/seed", {"count": count, "seed": 7, "labels": ["testable"]})
    return count + DEFAULT_TESTABLE


def budget(expected: int) -> int:
    """Pages, plus: the first page, the newest issue, probes, a recount per segment and
    the closing walk."""
    segments = math.ceil(expected / SEGMENT)
    rounds = math.ceil(segments / PROBES)
    return math.ceil(expected / 100) + 2 + rounds * PROBES + segments + 1


class Spy:
    """Wraps the emulator's dispatch: counts issue listings, the most in flight at once,
    and runs `on_listing(n)` before the n-th listing request is answered."""

    def __init__(self, app: GitLabApp, delay_s: float = 0.0) -> None:
        self.app = app
        self.inner = app.dispatch
        self.delay_s = delay_s
        self.lock = threading.Lock()
        self.listings = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.queries: list[dict[str, list[str]]] = []
        self.on_listing: Callable[[int], None] = lambda _n: None
        app.dispatch = self.dispatch  # type: ignore[method-assign]

    def dispatch(self, request: Request) -> Response:
        if request.method != "GET" or not request.path.endswith("/issues"):
            return self.inner(request)
        with self.lock:
            self.listings += 1
            number = self.listings
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.queries.append(request.query)
        try:
            self.on_listing(number)
            time.sleep(self.delay_s)
            return self.inner(request)
        finally:
            with self.lock:
                self.in_flight -= 1


def issues_of(app: GitLabApp, label: str = "testable") -> list[Issue]:
    with app.lock:
        return sorted(
            (
                i
                for i in app.state.issues.values()
                if i.project_id == 1 and not i.deleted and label in i.labels
            ),
            key=lambda i: (i.updated, i.id),
        )


@INSTANCES
def test_25000_requirements_are_listed_exactly_once_in_order_in_parallel(
    make_tracker: TrackerFactory, control: Control, app: GitLabApp, keyset: bool
) -> None:
    control.config(keyset=keyset)
    expected = seed(control, 25_000)
    spy = Spy(app, delay_s=0.02)
    tracker = make_tracker()
    seen: set[str] = set()
    previous = None
    for issue in tracker.iter_requirements(updated_since=None):
        assert issue.id not in seen
        assert previous is None or previous <= issue.updated
        seen.add(issue.id)
        previous = issue.updated
    assert len(seen) == expected
    assert math.ceil(expected / 100) < tracker.list_requests <= budget(expected)
    # In parallel, never more than the pool's workers and the consumer's own recount.
    assert WORKERS // 2 <= spy.most_in_flight <= WORKERS + 1
    ids = list(tracker.iter_requirement_ids())
    assert len(ids) == len(set(ids)) == expected


def assert_listed_once_oldest_first(tracker: GitLabTracker, expected: int) -> None:
    listed = list(tracker.iter_requirements(updated_since=None))
    assert len(listed) == len({i.id for i in listed}) == expected
    assert [i.updated for i in listed] == sorted(i.updated for i in listed)


def test_up_to_10000_results_are_fetched_in_parallel_in_order(
    make_tracker: TrackerFactory, control: Control
) -> None:
    expected = seed(control, 9_000)
    tracker = make_tracker()
    listing_ = tracker.iter_requirements(updated_since=None)
    first = list(itertools.islice(listing_, 101))
    # The first page, the newest issue, then a bounded window ahead, not everything.
    assert tracker.list_requests <= 2 + AHEAD + 1
    rest = list(listing_)
    issues = first + rest
    assert len({i.id for i in issues}) == len(issues) == expected
    assert [i.updated for i in issues] == sorted(i.updated for i in issues)
    # Counted (X-Total): the first page, the newest, the rest in one segment, its
    # recount, the closing walk.
    assert tracker.list_requests == 1 + 1 + math.ceil((expected - 100) / 100) + 1 + 1


def test_incremental_listing_of_a_large_project_is_one_request(
    make_tracker: TrackerFactory, control: Control
) -> None:
    seed(control, 25_000)
    tracker = make_tracker()
    control.clock(advance_s=3600)
    control.call("PATCH", "/_sandbox/issues/5001", {"title": "Reset password by email"})
    newest = tracker.get_issue("1:1")
    assert newest is not None
    changed = list(tracker.iter_requirements(updated_since=newest.updated))
    assert [i.id for i in changed] == ["5001"]
    assert tracker.list_requests == 1


def test_an_early_stop_leaves_no_request_running(
    make_tracker: TrackerFactory, control: Control, app: GitLabApp
) -> None:
    seed(control, 12_000)
    spy = Spy(app, delay_s=0.01)
    tracker = make_tracker()
    listing_ = tracker.iter_requirements(updated_since=None)
    assert len(list(itertools.islice(listing_, 500))) == 500
    listing_.close()  # type: ignore[attr-defined]
    asked = tracker.list_requests
    time.sleep(0.1)
    assert spy.in_flight == 0 and tracker.list_requests == asked <= 2 + PROBES + AHEAD + 1


def test_links_built_from_another_external_url_are_never_followed_elsewhere(
    make_tracker: TrackerFactory, control: Control
) -> None:
    # GitLab builds Link URLs from its configured external_url, not from the request.
    control.config(external_url="https://gitlab.internal.example")
    expected = seed(control, 450)
    tracker = make_tracker()
    assert len({i.id for i in tracker.iter_requirements(updated_since=None)}) == expected
    # The first page, the newest issue, 4 pages of the one segment, its recount, the walk.
    assert tracker.list_requests == 1 + 1 + 4 + 1 + 1


@pytest.mark.parametrize("count", [450, 10_050], ids=["counted", "uncounted"])
def test_pages_follow_x_next_page_when_a_proxy_drops_the_link_header(
    make_tracker: TrackerFactory, control: Control, app: GitLabApp, count: int
) -> None:
    control.config(keyset=False)  # offset pages throughout, so only X-Next-Page is left
    dispatch = app.dispatch

    def without_link(request: Request) -> Response:
        response = dispatch(request)
        response.headers.pop("Link", None)
        return response

    app.dispatch = without_link  # type: ignore[method-assign]
    expected = seed(control, count)
    tracker = make_tracker()
    assert len({i.id for i in tracker.iter_requirements(updated_since=None)}) == expected


# -- issues changing during the listing ---------------------------------------------------


def change(app: GitLabApp, issue: Issue, **fields: Any) -> None:
    with app.lock:
        for name, value in fields.items():
            setattr(issue, name, value)
        issue.updated = app.state.clock.now()
        app.state.touch()


def delete(app: GitLabApp, issue: Issue) -> None:
    with app.lock:
        app.state.delete_issue(issue)


def check_listing(
    listed: list[RemoteIssue], before: list[Issue], app: GitLabApp, touched: set[int]
) -> None:
    """Untouched issues exactly once; a changed one at least once and last as it is now;
    a repeat only ever newer; nothing that did not match at some point."""
    now = {str(i.id): i for i in issues_of(app)}
    counts = Counter(i.id for i in listed)
    untouched = {str(i.id) for i in before if i.id not in touched}
    assert {i for i in untouched if counts[i] != 1} == set()
    assert set(counts) <= {str(i.id) for i in before} | set(now)
    last: dict[str, RemoteIssue] = {}
    for issue in listed:
        if issue.id in last:
            assert issue.updated > last[issue.id].updated
        last[issue.id] = issue
    for ext_id, issue in now.items():
        assert ext_id in last, f"issue {ext_id} was never listed"
        assert last[ext_id].title == issue.title


@INSTANCES
@pytest.mark.parametrize("count", [9_000, 25_000], ids=["counted", "uncounted"])
def test_issues_edited_deleted_or_unlabelled_during_the_listing_miss_nothing(
    make_tracker: TrackerFactory,
    control: Control,
    app: GitLabApp,
    keyset: bool,
    count: int,
) -> None:
    control.config(keyset=keyset)
    seed(control, count)
    before = issues_of(app)
    spy = Spy(app)
    touched: set[int] = set()
    step = len(before) // 40

    def churn(number: int) -> None:
        # Every few requests: edit an early (listed) and a late (pending) issue, delete
        # one ahead, take the label off another: offsets ahead shift, sets shrink.
        if number % 7:
            return
        k = number // 7
        picks = [before[(k * step) % len(before)], before[-1 - (k * step) % len(before)]]
        for n, issue in enumerate(picks):
            if issue.id in touched or issue.deleted:
                continue
            touched.add(issue.id)
            change(app, issue, title=f"edited during the listing {n}")
        victim = before[(len(before) // 2 + k * step) % len(before)]
        if victim.id not in touched:
            touched.add(victim.id)
            delete(app, victim)
        leaver = before[(len(before) // 3 + k * step) % len(before)]
        if leaver.id not in touched:
            touched.add(leaver.id)
            change(app, leaver, labels=[n for n in leaver.labels if n != "testable"])

    spy.on_listing = churn
    tracker = make_tracker()
    listed = list(tracker.iter_requirements(updated_since=None))
    assert len(touched) > 20
    check_listing(listed, before, app, touched)


@INSTANCES
def test_more_than_a_page_of_issues_updated_within_one_second(
    make_tracker: TrackerFactory, control: Control, app: GitLabApp, keyset: bool
) -> None:
    control.config(keyset=keyset)
    expected = seed(control, 3_000)
    issues = issues_of(app)
    with app.lock:
        middle = issues[1000].updated // 1000 * 1000
        for n, issue in enumerate(issues[1000:1250]):
            issue.updated = middle + n % 1000  # 250 issues within one closed segment's second
        newest = app.state.clock.now() // 1000 * 1000 - 1000
        for n, issue in enumerate(issues[2000:2300]):
            issue.updated = newest + n % 7  # 300 within one second of the closing walk
        app.state.touch()
    assert_listed_once_oldest_first(make_tracker(), expected)


def test_a_lowered_offset_cap_costs_speed_not_issues(
    make_tracker: TrackerFactory, control: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An admin may lower offset_pagination_limit: pages and probes past it answer 405.
    monkeypatch.setattr(gitlab_paging, "OFFSET_PAGINATION_LIMIT", 3_000)
    expected = seed(control, 12_000)
    assert_listed_once_oldest_first(make_tracker(), expected)


def test_small_segments_still_cover_everything(
    make_tracker: TrackerFactory, control: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many planning rounds and segments: boundaries between them lose and repeat nothing.
    monkeypatch.setattr(listing, "SEGMENT", 700)
    monkeypatch.setattr(listing, "PROBES", 3)
    expected = seed(control, 12_000)
    assert_listed_once_oldest_first(make_tracker(), expected)
