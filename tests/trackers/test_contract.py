"""One contract every tracker adapter keeps, run against the emulator of each flavour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from testkase_cli.cli.sandbox import SANDBOX_EMAIL, SANDBOX_TOKEN, build
from testkase_cli.domain.models import (
    ConnectionSettings,
    DefectPriority,
    DefectStatus,
    NewIssue,
)
from testkase_cli.errors import AuthError, NotFoundError
from testkase_cli.ports import DEFECT_LABEL, Tracker
from testkase_cli.sandbox.core import Server
from testkase_cli.trackers import open_tracker

FLAVORS = ["jira-cloud", "jira-server", "gitlab"]


def settings(flavor: str, url: str, **extra: object) -> ConnectionSettings:
    platform, _, variant = flavor.partition("-")
    base: dict[str, object] = {
        "platform": platform,
        "url": url,
        "project": "PROJ" if platform == "jira" else "demo/web",
        "deployment": variant or None,
        "email": SANDBOX_EMAIL if flavor == "jira-cloud" else None,
        "issue_type": "Bug" if platform == "jira" else None,
    }
    base.update(extra)
    return ConnectionSettings(**base)  # type: ignore[arg-type]


@pytest.fixture(params=FLAVORS)
def adapter(request: pytest.FixtureRequest) -> Iterator[tuple[Tracker, httpx.Client, str]]:
    platform, _, variant = request.param.partition("-")
    server = Server(build(platform, variant or "cloud", 3, 0))
    url = server.start()
    tracker = open_tracker(settings(request.param, url), SANDBOX_TOKEN)
    control = httpx.Client(base_url=url)
    yield tracker, control, request.param
    tracker.close()
    control.close()
    server.stop()


def test_whoami_projects_and_a_missing_project(adapter: tuple[Tracker, httpx.Client, str]) -> None:
    tracker, _, flavor = adapter
    assert tracker.whoami().name
    keys = {p.key for p in tracker.list_projects()}
    assert ("PROJ" if flavor.startswith("jira") else "demo/web") in keys
    with pytest.raises(NotFoundError):
        tracker.get_project("NOPE" if flavor.startswith("jira") else "nobody/nothing")


def test_a_wrong_token_is_an_auth_error(adapter: tuple[Tracker, httpx.Client, str]) -> None:
    _tracker, _, flavor = adapter
    wrong = open_tracker(settings(flavor, tracker_url(adapter)), "wrong-token")
    with pytest.raises(AuthError):
        wrong.whoami()
    wrong.close()


def tracker_url(adapter: tuple[Tracker, httpx.Client, str]) -> str:
    return str(adapter[1].base_url).rstrip("/")


def test_listings_yield_each_requirement_once(adapter: tuple[Tracker, httpx.Client, str]) -> None:
    tracker, control, _ = adapter
    control.post("/_sandbox/seed", json={"count": 250, "seed": 5}).raise_for_status()
    issues = list(tracker.iter_requirements(updated_since=None))
    ids = [i.id for i in issues]
    assert len(ids) == len(set(ids)) == 262
    assert set(tracker.iter_requirement_ids()) == set(ids)
    assert all(i.updated.tzinfo is not None for i in issues)
    recent = datetime.now(UTC) + timedelta(days=3650)
    assert list(tracker.iter_requirements(updated_since=recent)) == []


def test_defect_round_trip(adapter: tuple[Tracker, httpx.Client, str]) -> None:
    tracker, _control, flavor = adapter
    mapping = tracker.priority_mapping()
    assert set(mapping) == set(DefectPriority)
    created = tracker.create_issue(
        NewIssue(
            title="Contract defect",
            description="Steps:\n\n1. open\n2. **fail**\n\n/close must stay text",
            priority=DefectPriority.CRITICAL,
            status=DefectStatus.OPEN,
            marker="tk-contract-1",
        )
    )
    assert DEFECT_LABEL in created.labels
    assert created.marker == "tk-contract-1"
    found = tracker.find_by_marker("tk-contract-1")
    assert found is not None and found.id == created.id
    assert tracker.find_by_marker("tk-absent-0") is None
    assert "/close must stay text" in found.description
    assert [d.id for d in tracker.iter_defects(updated_since=None)] == [created.id]
    assert created.id not in set(tracker.iter_requirement_ids())

    comment = tracker.add_comment(created, "first line\n\n/close", marker="tk-contract-c1")
    listed = tracker.list_comments(created)
    assert [c.id for c in listed][-1] == comment.id
    assert listed[-1].marker == "tk-contract-c1"
    assert "/close" in listed[-1].body
    assert "testkase-marker" not in listed[-1].body

    tracker.set_priority(created, DefectPriority.MINOR)
    closed = "closed" if flavor == "gitlab" else "Done"
    tracker.set_status(created, closed)
    again = tracker.get_issue(created.ref)
    assert again is not None
    assert again.status.casefold() == closed.casefold()
    assert (again.priority or "").casefold() == mapping[DefectPriority.MINOR].rsplit("::")[
        -1
    ].casefold()


def test_a_deleted_issue_is_gone(adapter: tuple[Tracker, httpx.Client, str]) -> None:
    tracker, control, _ = adapter
    first = next(iter(tracker.iter_requirements(updated_since=None)))
    control.delete(f"/_sandbox/issues/{first.id}").raise_for_status()
    assert tracker.get_issue(first.ref) is None
    assert first.id not in set(tracker.iter_requirement_ids())
