"""The emulator's writes: issue updates, quick actions, notes, labels, moves, control API."""

from __future__ import annotations

import time

from gitlab_raw import Raw

ISSUE = "/api/v4/projects/1/issues"
UPDATE_PARAMS = (
    "assignee_id, assignee_ids, confidential, created_at, description, discussion_locked, "
    "due_date, labels, add_labels, remove_labels, milestone_id, state_event, title, issue_type"
)


def put(gitlab: Raw, iid: int, body: dict[str, object]) -> dict[str, object]:
    reply = gitlab("PUT", f"{ISSUE}/{iid}", body)
    assert reply.status == 200, reply.raw
    data: dict[str, object] = reply.json
    return data


def test_update_needs_a_parameter_and_valid_state_events(gitlab: Raw) -> None:
    empty = gitlab("PUT", f"{ISSUE}/1", {"labelz": "x"})
    assert (empty.status, empty.json) == (
        400,
        {"error": f"{UPDATE_PARAMS} are missing, at least one parameter must be provided"},
    )
    wrong = gitlab("PUT", f"{ISSUE}/1", {"state_event": "closed"})
    assert wrong.json == {"error": "state_event does not have a valid value"}
    closed = put(gitlab, 1, {"state_event": "close"})
    assert closed["state"] == "closed" and closed["closed_by"]["username"] == "sandbox.tester"
    again = put(gitlab, 1, {"state_event": "close"})  # a no-op, not an error
    assert again["updated_at"] == closed["updated_at"]
    assert put(gitlab, 1, {"state_event": "reopen"})["state"] == "opened"
    events = gitlab.get(f"{ISSUE}/1/resource_state_events").json
    assert [e["state"] for e in events] == ["closed", "reopened"]


def test_label_parameters_replace_add_and_remove(gitlab: Raw) -> None:
    assert put(gitlab, 1, {"labels": "a,b"})["labels"] == ["a", "b"]
    assert put(gitlab, 1, {"add_labels": "c", "remove_labels": "a,zzz"})["labels"] == ["b", "c"]
    assert put(gitlab, 1, {"add_labels": "d", "remove_labels": "d"})["labels"] == ["b", "c"]
    assert put(gitlab, 1, {"labels": ""})["labels"] == []
    created = {lb["name"]: lb for lb in gitlab.get("/api/v4/projects/1/labels?per_page=100").json}
    assert created["a"]["color"] == "#6699cc"  # missing labels are created with the default
    both = put(gitlab, 2, {"add_labels": "priority::high,REVIEW"})
    assert both["labels"] == ["REVIEW", "priority::critical", "priority::high", "testable"]
    events = gitlab.get(f"{ISSUE}/2/resource_label_events").json
    assert {(e["label"]["name"], e["action"]) for e in events} == {
        ("REVIEW", "add"),
        ("priority::high", "add"),
    }


def test_scoped_labels_are_exclusive_only_on_premium(gitlab: Raw) -> None:
    ce = put(gitlab, 1, {"add_labels": "priority::medium"})
    assert ce["labels"] == ["priority::high", "priority::medium", "testable"]
    gitlab.control("POST", "config", {"scoped_labels": True})
    premium = put(gitlab, 3, {"add_labels": "priority::high"})
    assert premium["labels"] == ["priority::high"]
    kept = put(gitlab, 1, {"add_labels": "other"})  # pre-existing conflicts are left alone
    assert kept["labels"] == ["other", "priority::high", "priority::medium", "testable"]


def test_create_requires_a_title_and_runs_description_commands(gitlab: Raw) -> None:
    missing = gitlab("POST", ISSUE, {"description": "x"})
    assert (missing.status, missing.json) == (400, {"error": "title is missing"})
    blank = gitlab("POST", ISSUE, {"title": " "})
    assert blank.json == {"message": {"title": ["can't be blank"]}}
    created = gitlab("POST", ISSUE, {"title": "T", "description": "Body\n/close\n/label ~testable"})
    assert created.status == 201
    assert (created.json["description"], created.json["state"]) == ("Body", "closed")
    assert created.json["labels"] == ["testable"]
    assert created.json["id"] != created.json["iid"]  # ids are global, iids per project
    plain = gitlab("POST", ISSUE, {"title": "No description"}).json
    assert plain["description"] is None and plain["user_notes_count"] == 0


def test_notes_order_filters_and_counts(gitlab: Raw) -> None:
    notes = gitlab.get(f"{ISSUE}/1/notes").json
    assert [n["id"] for n in notes] == sorted((n["id"] for n in notes), reverse=True)
    assert [n["system"] for n in notes] == [False, True, False, True]  # interleaved
    ascending = gitlab.get(f"{ISSUE}/1/notes?sort=asc&activity_filter=only_comments").json
    assert [n["body"] for n in ascending] == [
        "Does the link also work on the mobile app?",
        "Yes, it opens the app when installed.\r\n",
    ]
    activity = gitlab.get(f"{ISSUE}/1/notes?activity_filter=only_activity").json
    assert all(n["system"] for n in activity)
    assert gitlab.get(f"{ISSUE}/1").json["user_notes_count"] == 2
    assert notes[0]["noteable_id"] == 5001 and notes[0]["noteable_iid"] == 1


def test_quick_actions_in_notes(gitlab: Raw) -> None:
    only = gitlab("POST", f"{ISSUE}/1/notes", {"body": "/close"})
    assert (only.status, only.json) == (
        202,
        {"commands_changes": {"state_event": "close"}, "summary": ["Closed this issue."]},
    )
    assert gitlab.get(f"{ISSUE}/1").json["state"] == "closed"
    assert gitlab.get(f"{ISSUE}/1").json["user_notes_count"] == 2  # no note was made
    mixed = gitlab("POST", f"{ISSUE}/1/notes", {"body": "Fixed?\n/REOPEN\n/label ~documentation"})
    assert mixed.status == 201
    assert mixed.json["body"] == "Fixed?"
    assert mixed.json["commands_changes"]["state_event"] == "reopen"
    issue = gitlab.get(f"{ISSUE}/1").json
    assert issue["state"] == "opened" and "documentation" in issue["labels"]
    fenced = gitlab("POST", f"{ISSUE}/1/notes", {"body": "```\n/close\n```"}).json
    assert fenced["body"] == "```\n/close\n```"
    escaped = gitlab("POST", f"{ISSUE}/1/notes", {"body": "\\/close"}).json
    assert escaped["body"] == "\\/close"
    unknown = gitlab("POST", f"{ISSUE}/1/notes", {"body": "/shrugs at this"}).json
    assert unknown["body"] == "/shrugs at this"
    assert gitlab.get(f"{ISSUE}/1").json["state"] == "opened"


def test_a_note_touches_the_issue_at_most_once_a_minute(gitlab: Raw) -> None:
    gitlab.control("POST", "clock", {"set": "2030-01-01T10:00:00Z"})
    before = put(gitlab, 1, {"title": "Renamed"})["updated_at"]
    gitlab.control("POST", "clock", {"advance_s": 59})
    gitlab("POST", f"{ISSUE}/1/notes", {"body": "within the minute"})
    assert gitlab.get(f"{ISSUE}/1").json["updated_at"] == before
    gitlab.control("POST", "clock", {"advance_s": 2})
    gitlab("POST", f"{ISSUE}/1/notes", {"body": "a minute later"})
    assert gitlab.get(f"{ISSUE}/1").json["updated_at"] > before


def test_labels_list_and_create(gitlab: Raw) -> None:
    first = gitlab.get("/api/v4/projects/1/labels")
    assert [lb["name"] for lb in first.json] == [
        "documentation",
        "priority::critical",
        "priority::high",
        "priority::medium",
        "testable",
    ]
    assert "priority::low" not in [lb["name"] for lb in first.json]
    missing = gitlab("POST", "/api/v4/projects/1/labels", {})
    assert missing.json == {"error": "name is missing, color is missing"}
    bad = gitlab("POST", "/api/v4/projects/1/labels", {"name": "x", "color": "nope"})
    assert bad.json == {"message": {"color": ["must be a valid color code"]}}
    made = gitlab("POST", "/api/v4/projects/1/labels", {"name": "priority::low", "color": "navy"})
    assert made.status == 201
    assert (made.json["color"], made.json["text_color"]) == ("#000080", "#FFFFFF")
    light = gitlab("POST", "/api/v4/projects/1/labels", {"name": "pale", "color": "#FFFFEE"})
    assert light.json["text_color"] == "#1F1E24"
    for n in range(20):
        gitlab("POST", "/api/v4/projects/1/labels", {"name": f"l{n:02}", "color": "#123456"})
    paged = gitlab.get("/api/v4/projects/1/labels")
    assert len(paged.json) == 20 and paged.headers["X-Total"] == "27"


def test_delete_is_for_owners_and_leaves_no_trace_in_the_api(gitlab: Raw) -> None:
    gitlab.control("POST", "config", {})
    refused = gitlab("DELETE", f"{ISSUE}/1", token="readonly-token")
    assert refused.status == 403
    assert gitlab("DELETE", f"{ISSUE}/1").status == 204
    assert gitlab.get(f"{ISSUE}/1").json == {"message": "404 Not found"}
    assert 1 not in [i["iid"] for i in gitlab.get(f"{ISSUE}?per_page=100").json]
    assert gitlab.control("GET", "issues?label=testable")[0]["deleted"] is True


def test_move_creates_a_new_issue_and_notes_both_ends(gitlab: Raw) -> None:
    same = gitlab("POST", f"{ISSUE}/1/move", {"to_project_id": 1})
    assert same.status == 400
    moved = gitlab("POST", f"{ISSUE}/1/move", {"to_project_id": 2})
    assert moved.status == 201
    new = moved.json
    assert (new["project_id"], new["iid"], new["references"]["full"]) == (2, 1, "demo/other#1")
    old = gitlab.get(f"{ISSUE}/1").json
    assert (old["state"], old["moved_to_id"]) == ("closed", new["id"])
    assert gitlab.get(f"{ISSUE}/1/notes").json[0]["body"] == "moved to other#1"
    arrived = gitlab.get("/api/v4/projects/2/issues/1/notes").json
    assert arrived[0]["body"] == "moved from web#1"
    assert new["user_notes_count"] == 2  # comments travel with the issue
    across = gitlab("POST", f"{ISSUE}/2/move", {"to_project_id": "qa%2Farchive"}).json
    assert gitlab.get(f"{ISSUE}/2/notes").json[0]["body"] == f"moved to qa/archive#{across['iid']}"
    again = gitlab("POST", f"{ISSUE}/1/move", {"to_project_id": 3})
    assert again.status == 400


def test_control_api(gitlab: Raw) -> None:
    started = time.monotonic()
    seeded = gitlab.control("POST", "seed", {"count": 100_000, "seed": 5, "labels": ["bulk"]})
    assert seeded == {"created": 100_000, "total": 100_014}
    assert time.monotonic() - started < 5
    made = gitlab.control(
        "POST",
        "issues",
        {"title": "From the tracker", "priority": "Highest", "status": "closed", "labels": ["ext"]},
    )
    assert (made["priority"], made["state"], made["labels"]) == (
        "critical",
        "closed",
        ["ext", "priority::critical"],
    )
    listed = gitlab.control("GET", "issues?label=ext")
    assert [i["id"] for i in listed] == [made["id"]]
    before = gitlab.get(f"{ISSUE}/{made['ref'].split(':')[1]}").json["updated_at"]
    gitlab.control("POST", "clock", {"advance_s": 5})
    edited = gitlab.control(
        "PATCH", f"issues/{made['id']}", {"priority": "low", "status": "opened"}
    )
    assert (edited["priority"], edited["state"]) == ("low", "opened")
    after = gitlab.get(f"{ISSUE}/{made['ref'].split(':')[1]}").json["updated_at"]
    assert after > before
    comment = gitlab.control("POST", f"issues/{made['id']}/comments", {"body": "hi"})
    assert comment["author"] == "alice"
    unknown = gitlab("POST", "/_sandbox/config", {"colour": 1}, token=None)
    assert unknown.status == 400
