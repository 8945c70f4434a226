"""The edges of sync: time zones, moves, filters, dry runs, reconnecting."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import Tracker, connect_args


@pytest.mark.parametrize("tracker", ["jira-cloud", "jira-server"], indirect=True)
@pytest.mark.parametrize("zone", ["Pacific/Honolulu", "Pacific/Kiritimati"])
def test_jira_change_in_the_same_minute_is_seen_in_any_user_zone(
    tracker: Tracker, zone: str
) -> None:
    tracker.configure(time_zone=zone)
    tracker.sync()
    req = tracker.cli("req", "show", "REQ-4", "--json").json
    tracker.control.post("/_sandbox/clock", json={"advance_s": 20}).raise_for_status()
    tracker.edit(req["external"]["id"], title="Renamed in the same minute")
    result = tracker.sync()
    assert result["requirements"]["updated"] == 1, result
    assert tracker.cli("req", "show", "REQ-4", "--json").json["title"] == (
        "Renamed in the same minute"
    )


def test_requirements_can_be_named_by_their_tracker_key(tracker: Tracker) -> None:
    tracker.sync()
    req = tracker.cli("req", "show", "REQ-2", "--json").json
    key = req["external"]["key"]
    short = "#" + key.split("#")[1] if "#" in key else key
    assert tracker.cli("req", "show", short, "--json").json["id"] == "REQ-2"
    tracker.cli("case", "add", "By key")
    assert tracker.cli("link", "TC-1", key).code == 0
    assert tracker.cli("req", "show", "REQ-2", "--json").json["test_cases"] == ["TC-1"]


def test_moved_issue_keeps_its_requirement(tracker: Tracker) -> None:
    tracker.sync()
    req = tracker.cli("req", "show", "REQ-5", "--json").json
    tracker.cli("case", "add", "Survives the move")
    tracker.cli("link", "TC-1", "REQ-5")
    target = "demo/other" if tracker.platform == "gitlab" else "OTHER"
    moved = tracker.control.post(
        f"/_sandbox/issues/{req['external']['id']}/move", json={"project": target}
    )
    moved.raise_for_status()
    tracker.sync("--full")
    after = tracker.cli("req", "show", "REQ-5", "--json").json
    assert after["test_cases"] == ["TC-1"]
    assert after["external"]["key"] != req["external"]["key"]
    assert after["external"]["key"] == moved.json()["key"] or tracker.platform == "gitlab"
    if tracker.platform == "gitlab":
        assert after["external"]["state"] == "linked"
        assert after["external"]["key"].startswith("demo/other#")
    else:
        assert after["external"]["id"] == req["external"]["id"]
        assert after["external"]["state"] == "left_filter"
    reqs = tracker.cli("req", "list", "--json").json
    assert len(reqs) == 12


def test_issue_leaving_and_reentering_the_filter(tracker: Tracker) -> None:
    if tracker.platform == "gitlab":
        args = [*connect_args(tracker.flavor, tracker.url), "--labels", "testable"]
    else:
        args = [*connect_args(tracker.flavor, tracker.url), "--jql", "labels = testable"]
    assert tracker.cli(*args).code == 0
    first = tracker.sync()
    assert first["mode"] == "full"
    reqs = tracker.cli("req", "list", "--json").json
    assert 0 < len(reqs) < 12
    target = reqs[0]
    issue = next(i for i in tracker.issues() if i["id"] == target["external"]["id"])
    tracker.edit(issue["id"], labels=[x for x in issue["labels"] if x != "testable"])
    gone = tracker.sync("--full")
    assert gone["requirements"]["deprecated"] == 1
    left = tracker.cli("req", "show", target["id"], "--json").json
    assert (left["status"], left["external"]["state"]) == ("Deprecated", "left_filter")
    tracker.edit(issue["id"], labels=issue["labels"])
    back = tracker.sync()
    assert back["requirements"]["restored"] == 1
    assert tracker.cli("req", "show", target["id"], "--json").json["external"]["state"] == (
        "linked"
    )


def test_dry_run_changes_nothing_anywhere(tracker: Tracker) -> None:
    tracker.sync()
    tracker.cli("case", "add", "Planned")
    tracker.faults(error_burst=10_000)
    tracker.cli("link", "TC-1", "REQ-1")
    tracker.faults(error_burst=0)
    tracker.cli("defect", "add", "Not yet pushed")
    before_issues = tracker.issues()
    before_reqs = tracker.cli("req", "list", "--json").json
    plan = tracker.sync("--dry-run")
    assert plan["mode"] == "dry-run"
    assert any("comment" in line for line in plan["plan"])
    assert tracker.issues() == before_issues
    assert tracker.cli("req", "list", "--json").json == before_reqs
    assert tracker.cli("status", "--json").json["queue"]["pending"] == 1


def test_reconnecting_with_another_project_detaches_the_old_requirements(
    tracker: Tracker,
) -> None:
    tracker.sync()
    again = tracker.cli(*connect_args(tracker.flavor, tracker.url), "--json")
    assert again.json["detached"] == 0
    assert tracker.cli("req", "show", "REQ-1", "--json").json["external"]["state"] == "linked"
    args = connect_args(tracker.flavor, tracker.url)
    args[args.index("--project") + 1] = "demo/other" if tracker.platform == "gitlab" else "OTHER"
    switched = tracker.cli(*args, "--json")
    assert switched.code == 0, switched.err
    assert switched.json["detached"] == 12
    old = tracker.cli("req", "show", "REQ-1", "--json").json
    assert old["external"]["state"] == "detached"
    assert old["read_only"] is False
    assert tracker.sync()["mode"] == "full"


@pytest.mark.parametrize("tracker", ["gitlab"], indirect=True)
def test_status_warns_when_the_token_expires_soon(tracker: Tracker) -> None:
    from datetime import UTC, datetime, timedelta

    soon = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    tracker.configure(token_expires_at=soon)
    status = tracker.cli("status", "--json").json
    assert status["connection"]["token_expires"] == soon
    assert status["connection"]["token_source"] == "environment"
    assert any("expires" in warning for warning in status["warnings"])
    later = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    tracker.configure(token_expires_at=later)
    assert tracker.cli("status", "--json").json["warnings"] == []
