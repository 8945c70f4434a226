"""The GitLab adapter's behaviour, against the emulator over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from gitlab_support import Control, TrackerFactory

from testkase_cli.domain.models import DefectPriority, DefectStatus, NewIssue
from testkase_cli.errors import AuthError, ExitCode, RejectedError, UsageError
from testkase_cli.sandbox.gitlab import READONLY_TOKEN
from testkase_cli.trackers.gitlab import GitLabTracker


def new_defect(marker: str = "tk-web-DEF-1", **changes: object) -> NewIssue:
    fields: dict[str, object] = {
        "title": "Checkout total ignores the coupon",
        "description": "Seen in cycle CY-1 running TC-4.\n\n1. add a coupon\n2. pay",
        "priority": DefectPriority.MAJOR,
        "status": DefectStatus.OPEN,
        "marker": marker,
    }
    fields.update(changes)
    return NewIssue(**fields)  # type: ignore[arg-type]


def label_names(control: Control) -> set[str]:
    return {label["name"] for label in control.api("/projects/1/labels?per_page=100")}


def test_whoami_names_the_user_and_the_token_expiry(
    control: Control, tracker: GitLabTracker
) -> None:
    assert tracker.whoami().token_expires is not None  # the sandbox token expires by default
    control.config(token_expires_at="2027-01-31")
    account = tracker.whoami()
    assert (account.id, account.name, account.email) == (
        "7",
        "Sandbox Tester",
        "tester@example.com",
    )
    assert account.token_expires == "2027-01-31"
    control.config(token_expires_at=None)
    assert tracker.whoami().token_expires is None


def test_projects_by_id_and_by_path(tracker: GitLabTracker) -> None:
    by_id = tracker.get_project("1")
    assert tracker.get_project("demo/web") == by_id
    assert tracker.get_project("DEMO/Web") == by_id  # full paths are case-insensitive
    assert (by_id.key, by_id.name) == ("demo/web", "Demo / Web")
    listed = [p.key for p in tracker.list_projects()]
    assert listed == ["demo/other", "demo/web", "qa/archive"]  # membership only, no public ones
    assert tracker.list_issue_types("demo/web") == ["issue"]


def test_requirements_are_the_labelled_issues_without_defects_tasks_or_incidents(
    tracker: GitLabTracker, control: Control
) -> None:
    tracker.create_issue(new_defect())  # a defect carrying the filter label must stay out
    control.call("POST", "/_sandbox/issues", {"title": "Unlabelled", "labels": []})
    issues = list(tracker.iter_requirements(updated_since=None))
    expected = {i["id"] for i in control.issues(label="testable") if i["project"] == "demo/web"}
    assert {i.id for i in issues} == expected
    assert len(issues) == 5
    assert [i.updated for i in issues] == sorted(i.updated for i in issues)
    first = next(i for i in issues if i.key == "demo/web#1")
    assert (first.ref, first.status, first.priority) == ("1:1", "opened", "high")
    assert first.comment_count == 2
    assert first.url.endswith("/demo/web/-/issues/1")
    assert sorted(tracker.iter_requirement_ids()) == sorted(expected)


def test_incremental_listing_on_a_plus_two_hours_instance(
    tracker: GitLabTracker, control: Control
) -> None:
    control.config(utc_offset="+02:00")
    control.clock(set="2030-05-01T10:00:00Z")
    created = control.call("POST", "/_sandbox/issues", {"title": "Late", "labels": ["testable"]})
    raw = control.api(f"/projects/1/issues/{created['ref'].split(':')[1]}")
    assert raw["updated_at"].startswith("2030-05-01T12:00:") and raw["updated_at"].endswith(
        "+02:00"
    )
    issue = tracker.get_issue(created["ref"])
    assert issue is not None
    assert abs(issue.updated - datetime(2030, 5, 1, 10, 0, tzinfo=UTC)) < timedelta(seconds=5)
    since = issue.updated
    assert [i.id for i in tracker.iter_requirements(updated_since=since)] == [issue.id]
    control.clock(advance_s=3600)
    control.call("PATCH", "/_sandbox/issues/5002", {"title": "VAT per shipping country"})
    later = list(tracker.iter_requirements(updated_since=since + timedelta(minutes=30)))
    assert [i.key for i in later] == ["demo/web#2"]
    assert later[0].title == "VAT per shipping country"


def test_a_comment_in_the_same_minute_keeps_updated_at_but_counts(
    tracker: GitLabTracker, control: Control
) -> None:
    control.clock(set="2030-05-01T10:00:00Z")
    control.call("PATCH", "/_sandbox/issues/5001", {"title": "Password reset by email"})
    since = datetime(2030, 5, 1, 9, 59, tzinfo=UTC)
    before = {i.id: i for i in tracker.iter_requirements(updated_since=since)}["5001"]
    control.clock(advance_s=30)
    control.call("POST", "/_sandbox/issues/5001/comments", {"body": "Also on mobile?"})
    after = {i.id: i for i in tracker.iter_requirements(updated_since=since)}["5001"]
    assert after.updated == before.updated  # ThrottledTouch: no bump within a minute
    assert after.comment_count == (before.comment_count or 0) + 1
    control.clock(advance_s=90)
    control.call("POST", "/_sandbox/issues/5001/comments", {"body": "Ping"})
    bumped = tracker.get_issue("1:1")
    assert bumped is not None and bumped.updated > before.updated


def test_defects_are_created_with_labels_marker_and_found_again(
    tracker: GitLabTracker, control: Control
) -> None:
    assert "priority::low" not in label_names(control)
    defect = tracker.create_issue(new_defect(priority=DefectPriority.TRIVIAL))
    assert defect.labels == ("priority::low", "testkase-defect")
    assert defect.priority == "low" and defect.status == "opened"
    assert defect.marker == "tk-web-DEF-1"
    assert defect.description == new_defect().description
    labels = {lb["name"]: lb for lb in control.api("/projects/1/labels?per_page=100")}
    assert labels["priority::low"]["color"] == "#8FBC8F"  # created by testkase, not defaulted
    assert "testkase-defect" in labels
    raw = control.issue(defect.id)["description"]
    assert raw.endswith("\n\n<!-- testkase-marker: tk-web-DEF-1 -->")
    assert tracker.find_by_marker("tk-web-DEF-1") == defect
    assert tracker.find_by_marker("tk-web-DEF-2") is None
    assert [d.id for d in tracker.iter_defects(updated_since=None)] == [defect.id]


def test_a_defect_pushed_closed_is_closed(tracker: GitLabTracker) -> None:
    defect = tracker.create_issue(new_defect(status=DefectStatus.ACHIEVED))
    assert defect.status == "closed"


def test_quick_actions_in_comments_arrive_as_text(tracker: GitLabTracker, control: Control) -> None:
    issue = tracker.get_issue("1:1")
    assert issue is not None
    text = "/close\nStill fails on Safari.\n/label ~documentation\n/title pwned"
    posted = tracker.add_comment(issue, text, marker="tk-c-1")
    only = tracker.add_comment(issue, "/close", marker="tk-c-2")
    assert (posted.body, posted.marker) == (text, "tk-c-1")
    assert only.body == "/close"
    after = tracker.get_issue("1:1")
    assert after is not None
    assert (after.status, after.labels, after.title) == (issue.status, issue.labels, issue.title)
    comments = tracker.list_comments(issue)
    assert [c.body for c in comments][-2:] == [text, "/close"]
    assert [c.marker for c in comments] == [None, None, "tk-c-1", "tk-c-2"]
    stored = control.issue(issue.id)["comments"][-1]["body"]
    assert stored == "\\/close\n\n<!-- testkase-marker: tk-c-2 -->"  # Markdown renders `/close`


def test_quick_actions_in_a_defect_description_do_not_run(tracker: GitLabTracker) -> None:
    description = "Steps:\n/close\n/label ~documentation\n```\n/usr/bin/env kept\n```"
    defect = tracker.create_issue(new_defect(description=description))
    again = tracker.get_issue(defect.ref)
    assert again is not None
    assert (again.status, again.description) == ("opened", description)
    assert "documentation" not in again.labels


def test_comments_skip_system_notes_oldest_first(tracker: GitLabTracker) -> None:
    issue = tracker.get_issue("1:1")
    assert issue is not None
    comments = tracker.list_comments(issue)
    assert [c.author for c in comments] == ["Sandbox Tester", "Alice Example"]
    assert comments[0].created < comments[1].created
    assert all(c.marker is None for c in comments)


def test_priority_change_swaps_the_label(tracker: GitLabTracker, control: Control) -> None:
    defect = tracker.create_issue(new_defect(priority=DefectPriority.MINOR))
    tracker.set_priority(defect, DefectPriority.CRITICAL)
    changed = tracker.get_issue(defect.ref)
    assert changed is not None
    assert changed.labels == ("priority::high", "testkase-defect")
    # CE lets two priorities coexist: the highest wins, and a change removes both.
    control.call(
        "PATCH",
        f"/_sandbox/issues/{defect.id}",
        {"labels": ["testkase-defect", "priority::medium", "priority::critical"]},
    )
    doubled = tracker.get_issue(defect.ref)
    assert doubled is not None and doubled.priority == "critical"
    tracker.set_priority(doubled, DefectPriority.MINOR)
    final = tracker.get_issue(defect.ref)
    assert final is not None and final.labels == ("priority::low", "testkase-defect")
    assert tracker.priority_mapping()[DefectPriority.BLOCKER] == "priority::critical"


def test_close_and_reopen(tracker: GitLabTracker) -> None:
    defect = tracker.create_issue(new_defect())
    tracker.set_status(defect, "closed")
    tracker.set_status(defect, "closed")  # closing a closed issue is a no-op
    closed = tracker.get_issue(defect.ref)
    assert closed is not None and closed.status == "closed"
    tracker.set_status(closed, "opened")
    reopened = tracker.get_issue(defect.ref)
    assert reopened is not None and reopened.status == "opened"
    with pytest.raises(RejectedError, match="opened or closed"):
        tracker.set_status(reopened, "Done")


def test_moves_are_followed_within_and_across_namespaces(
    tracker: GitLabTracker, control: Control
) -> None:
    moved = control.call("POST", "/_sandbox/issues/5001/move", {"project": "demo/other"})
    old = tracker.get_issue("1:1")
    assert old is not None and old.status == "closed" and old.moved_to_id == moved["id"]
    new = tracker.follow_move(old)
    assert new is not None
    assert (new.id, new.key, new.ref) == (moved["id"], "demo/other#1", "2:1")
    control.call("POST", f"/_sandbox/issues/{moved['id']}/move", {"project": "qa/archive"})
    final = tracker.follow_move(old)  # two hops: other#1, then qa/archive#1
    assert final is not None and final.key == "qa/archive#1"
    current = tracker.get_issue("1:2")
    assert current is not None and tracker.follow_move(current) is None


def test_a_deleted_issue_is_gone(tracker: GitLabTracker, control: Control) -> None:
    control.call("DELETE", "/_sandbox/issues/5001")
    assert tracker.get_issue("1:1") is None
    assert "5001" not in set(tracker.iter_requirement_ids())
    with pytest.raises(UsageError):
        tracker.get_issue("demo/web#1")


def test_no_project_configured_is_a_usage_error(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker(project=None)
    assert tracker.whoami().id == "7"  # connect works before a project is chosen
    with pytest.raises(UsageError, match="no GitLab project"):
        list(tracker.iter_requirements(updated_since=None))


def test_readonly_token_can_read_but_not_push(make_tracker: TrackerFactory) -> None:
    tracker = make_tracker(token=READONLY_TOKEN)
    assert len(list(tracker.iter_requirements(updated_since=None))) == 5
    with pytest.raises(AuthError) as caught:
        tracker.create_issue(new_defect())
    assert caught.value.code == "insufficient_scope"
    assert caught.value.exit_code == ExitCode.AUTH
    assert "`api` scope" in caught.value.hint
