"""Defects out and back: exactly-once push, status/priority/comments both ways, conflicts."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Tracker

CREATE = {
    "jira": r"POST /rest/api/[23]/issue",
    "gitlab": r"POST /api/v4/projects/[^/]+/issues",
}


def _pushed(tracker: Tracker, title: str = "Checkout total is wrong") -> dict[str, Any]:
    tracker.sync()
    tracker.cli("case", "add", "Totals add up")
    tracker.cli("link", "TC-1", "REQ-1")
    tracker.cli("cycle", "add", "Sprint 1")
    run = tracker.cli(
        "exec",
        "CY-1",
        "TC-1",
        "--result",
        "failed",
        "--defect",
        title,
        "--defect-priority",
        "critical",
        "--push",
        "--json",
    )
    assert run.code == 0, run.err
    defect: dict[str, Any] = run.json["defect"]
    assert defect["external"] is not None
    return defect


def test_push_creates_one_issue_with_context_and_back_reference(tracker: Tracker) -> None:
    defect = _pushed(tracker)
    [issue] = tracker.defects_in_tracker()
    assert issue["id"] == defect["external"]["id"]
    assert issue["title"] == "Checkout total is wrong"
    assert "DEF-1" in issue["description"]
    assert "TC-1" in issue["description"] and "CY-1" in issue["description"]
    again = tracker.cli("push", "DEF-1", "--json")
    assert again.code == 0
    assert again.json[0]["external"]["key"] == defect["external"]["key"]
    assert len(tracker.defects_in_tracker()) == 1


def test_lost_create_response_never_duplicates(tracker: Tracker) -> None:
    tracker.sync()
    tracker.faults(lose_response=[CREATE[tracker.platform]], lose_every=1)
    tracker.cli("defect", "add", "Lost in transit", "--priority", "blocker")
    first = tracker.cli("push", "DEF-1", "--json")
    assert first.code != 0
    assert len(tracker.defects_in_tracker()) == 1
    tracker.faults(lose_response=[])
    for _ in range(2):
        tracker.cli("push", "DEF-1")
        tracker.sync()
    shown = tracker.cli("defect", "show", "DEF-1", "--json").json
    assert shown["external"] is not None
    [issue] = tracker.defects_in_tracker()
    assert shown["external"]["id"] == issue["id"]


def test_every_push_losing_its_response_still_ends_with_one_issue_each(tracker: Tracker) -> None:
    tracker.sync()
    tracker.faults(lose_response=[CREATE[tracker.platform]], lose_every=1)
    for n in range(3):
        tracker.cli("defect", "add", f"Defect {n}")
    tracker.cli("push", "--all")
    tracker.faults(lose_response=[])
    tracker.sync()
    tracker.sync()
    issues = tracker.defects_in_tracker()
    assert sorted(i["title"] for i in issues) == ["Defect 0", "Defect 1", "Defect 2"]
    local = tracker.cli("defect", "list", "--json").json
    assert {d["external"]["id"] for d in local} == {i["id"] for i in issues}


def test_tracker_changes_come_back_and_local_changes_go_out(tracker: Tracker) -> None:
    defect = _pushed(tracker)
    issue_id = defect["external"]["id"]
    tracker.edit(issue_id, status=tracker.closed)
    tracker.comment(issue_id, "Fixed in build 42")
    back = tracker.sync()
    assert back["defects"]["pulled"] == 1
    assert back["comments"]["pulled"] == 1
    shown = tracker.cli("defect", "show", "DEF-1", "--json").json
    assert shown["status"] == "Closed"
    assert [c["body"] for c in shown["comments"]] == ["Fixed in build 42"]

    tracker.cli("defect", "edit", "DEF-1", "--status", "open", "--priority", "minor")
    tracker.cli("defect", "comment", "DEF-1", "/close still failing on staging")
    out = tracker.sync()
    assert out["errors"] == []
    assert out["comments"]["pushed"] == 1
    [issue] = tracker.defects_in_tracker()
    assert issue["status"] in ("opened", "To Do")
    bodies = [c["body"] for c in issue["comments"]]
    assert len(bodies) == 2
    assert "still failing on staging" in bodies[1]
    if tracker.platform == "gitlab":
        assert "priority::low" in issue["labels"]
        assert not any(
            label.startswith("priority::") and label != "priority::low" for label in issue["labels"]
        )
    quiet = tracker.sync()
    assert quiet["comments"] == {"pulled": 0, "pushed": 0}
    shown = tracker.cli("defect", "show", "DEF-1", "--json").json
    assert len(shown["comments"]) == 2


def test_field_changed_on_both_sides_follows_the_conflict_policy(tracker: Tracker) -> None:
    defect = _pushed(tracker)
    tracker.cli("defect", "edit", "DEF-1", "--priority", "trivial")
    remote = {"gitlab": "critical", "jira-cloud": "Highest", "jira-server": "Blocker"}[
        tracker.flavor
    ]
    tracker.edit(defect["external"]["id"], priority=remote)
    result = tracker.sync()
    assert result["exit"] == 0, result["errors"]
    assert result["defects"]["conflicts"] == 1
    conflict = result["conflicts"][0]
    assert (conflict["item"], conflict["field"], conflict["kept"]) == (
        "DEF-1",
        "priority",
        "tracker",
    )
    shown = tracker.cli("defect", "show", "DEF-1", "--json").json
    assert shown["priority"] == "Blocker"
    assert tracker.sync()["defects"]["conflicts"] == 0
