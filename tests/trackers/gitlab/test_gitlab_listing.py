"""Large listings: every issue exactly once, in order, past GitLab's 10,000 count cap."""

from __future__ import annotations

import itertools
import math

import pytest
from gitlab_support import Control, TrackerFactory

from testkase_cli.sandbox.core import Request, Response
from testkase_cli.sandbox.gitlab import GitLabApp
from testkase_cli.trackers.gitlab.paging import AHEAD

DEFAULT_TESTABLE = 5


def seed(control: Control, count: int) -> int:
    control.call("POST", "/_sandbox/seed", {"count": count, "seed": 7, "labels": ["testable"]})
    return count + DEFAULT_TESTABLE


@pytest.mark.parametrize("keyset", [True, False], ids=["keyset-18.3+", "offset-before-18.3"])
def test_25000_requirements_are_listed_exactly_once(
    make_tracker: TrackerFactory, control: Control, keyset: bool
) -> None:
    control.config(keyset=keyset)
    expected = seed(control, 25_000)
    tracker = make_tracker()
    seen: set[str] = set()
    previous = None
    for issue in tracker.iter_requirements(updated_since=None):
        assert issue.id not in seen
        assert previous is None or previous <= issue.updated
        seen.add(issue.id)
        previous = issue.updated
    assert len(seen) == expected
    # One offset page to learn the total is unknown (> 10,000), then 100 a page.
    assert tracker.list_requests == 1 + math.ceil(expected / 100)
    ids = list(tracker.iter_requirement_ids())
    assert len(ids) == len(set(ids)) == expected


def test_up_to_10000_results_are_fetched_in_parallel_in_order(
    make_tracker: TrackerFactory, control: Control
) -> None:
    expected = seed(control, 9_000)
    tracker = make_tracker()
    listing = tracker.iter_requirements(updated_since=None)
    first = list(itertools.islice(listing, 101))
    assert tracker.list_requests <= 2 + AHEAD  # a bounded window ahead, not everything
    rest = list(listing)
    issues = first + rest
    assert len({i.id for i in issues}) == len(issues) == expected
    assert [i.updated for i in issues] == sorted(i.updated for i in issues)
    assert tracker.list_requests == math.ceil(expected / 100)


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


def test_links_built_from_another_external_url_are_followed_on_our_own_origin(
    make_tracker: TrackerFactory, control: Control
) -> None:
    # GitLab builds Link URLs from its configured external_url, not from the request.
    control.config(external_url="https://gitlab.internal.example")
    expected = seed(control, 450)
    tracker = make_tracker()
    assert len({i.id for i in tracker.iter_requirements(updated_since=None)}) == expected
    assert tracker.list_requests == math.ceil(expected / 100)


@pytest.mark.parametrize("count", [450, 10_050], ids=["parallel", "sequential"])
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
