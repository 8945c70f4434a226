"""The Jira adapter against the emulator over real HTTP, Cloud and Server flavours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jira_env import JiraEnv

from testkase_cli.domain.models import DefectPriority, DefectStatus, NewIssue
from testkase_cli.errors import ExitCode, NotFoundError, RejectedError
from testkase_cli.ports import DEFECT_LABEL, Tracker


def defect(marker: str, *, priority: DefectPriority = DefectPriority.MAJOR) -> NewIssue:
    return NewIssue(
        title="Checkout button does nothing",
        description="Clicking **Pay** leaves the page as it is.\n\n- Chrome 126\n- Firefox 127",
        priority=priority,
        status=DefectStatus.OPEN,
        marker=marker,
    )


def test_tracker_satisfies_the_port(jira: JiraEnv) -> None:
    tracker: Tracker = jira.tracker
    assert tracker.platform == "jira"


def test_whoami_reports_the_account_and_its_time_zone(jira: JiraEnv) -> None:
    account = jira.tracker.whoami()
    assert account.name == "Tess Tester"
    assert account.email == "tester@example.com"
    assert account.time_zone == "Europe/Berlin"
    assert account.id  # accountId on Cloud, user key on Server


def test_projects_and_issue_types(jira: JiraEnv) -> None:
    assert {p.key for p in jira.tracker.list_projects()} == {"PROJ", "OTHER"}
    assert jira.tracker.get_project("OTHER").name == "Platform"
    types = jira.tracker.list_issue_types("PROJ")
    assert "Bug" in types and "Story" in types
    assert "Sub-task" not in types  # needs a parent: never offered for defects


def test_unknown_project_is_not_found_with_the_seed_hint(jira: JiraEnv) -> None:
    with pytest.raises(NotFoundError) as caught:
        jira.tracker.get_project("NOPE")
    assert caught.value.message == "project NOPE not found or not visible to this token"
    assert caught.value.exit_code == ExitCode.NOT_FOUND
    with pytest.raises(NotFoundError, match="project NOPE not found"):
        list(jira.tracker_for(project="NOPE").iter_requirements(updated_since=None))


def test_full_listing_follows_the_filter(jira: JiraEnv) -> None:
    jira.tracker.create_issue(defect("m-listing"))
    issues = list(jira.tracker.iter_requirements(updated_since=None))
    expected = {
        r["id"] for r in jira.issues() if r["project"] == "PROJ" and DEFECT_LABEL not in r["labels"]
    }
    assert len(issues) == len({i.id for i in issues}) == len(expected)
    assert {i.id for i in issues} == expected
    reset = next(i for i in issues if i.title == "Customer can reset a forgotten password")
    assert reset.status == "In Progress" and reset.status_category == "indeterminate"
    assert "Acceptance criteria" in reset.description
    assert reset.labels == ("testable",)
    assert reset.key.startswith("PROJ-") and reset.url.endswith(f"/browse/{reset.key}")
    assert reset.comment_count == 0


def test_user_jql_narrows_the_requirements(jira: JiraEnv) -> None:
    tracker = jira.tracker_for(jql="labels = testable ORDER BY rank")
    titles = {i.title for i in tracker.iter_requirements(updated_since=None)}
    assert titles == {r["title"] for r in jira.issues("testable")}
    assert len(titles) == 4


@pytest.mark.parametrize("zone", ["Pacific/Honolulu", "Pacific/Kiritimati"])
def test_incremental_listing_reads_the_cursor_in_the_users_zone(jira: JiraEnv, zone: str) -> None:
    jira.config(time_zone=zone)
    jira.post("clock", {"set": "2025-03-10T10:18:05Z"})
    before = jira.post("issues", {"title": "Changed before the last sync"})
    jira.post("clock", {"set": "2025-03-10T10:20:40Z"})
    cursor = datetime(2025, 3, 10, 10, 20, 40, tzinfo=UTC)  # the last sync ran here
    jira.post("clock", {"advance_s": 12})  # same minute as the cursor
    changed = jira.post("issues", {"title": "Changed in the same minute"})
    listed = list(jira.tracker.iter_requirements(updated_since=cursor))
    ids = [i.id for i in listed]
    assert changed["id"] in ids
    assert before["id"] not in ids  # 2.5 minutes earlier: outside the floored window
    assert all(i.updated >= cursor - timedelta(minutes=1) for i in listed)


def test_defect_round_trip_with_markers(jira: JiraEnv) -> None:
    created = jira.tracker.create_issue(defect("tk-DEF-1-7f3a"))
    assert created.marker == "tk-DEF-1-7f3a"
    assert created.labels == (DEFECT_LABEL,)
    assert "Pay" in created.description and "testkase-marker" not in created.description
    row = jira.issue(created.id)
    assert row["properties"] == {"testkase": {"marker": "tk-DEF-1-7f3a"}}
    assert row["description"].splitlines()[-1] == "testkase-marker: tk-DEF-1-7f3a"
    assert [i.id for i in jira.tracker.iter_defects(updated_since=None)] == [created.id]
    assert created.id not in {i.id for i in jira.tracker.iter_requirements(updated_since=None)}
    found = jira.tracker.find_by_marker("tk-DEF-1-7f3a")
    assert found is not None and found.id == created.id
    assert jira.tracker.find_by_marker("tk-DEF-2-0000") is None


def test_comments_carry_markers_and_come_back_oldest_first(jira: JiraEnv) -> None:
    issue = jira.tracker.create_issue(defect("tk-comments"))
    jira.post(f"issues/{issue.id}/comments", {"body": "Reproduced on staging."})
    posted = jira.tracker.add_comment(issue, "Linked to **TC-4**", marker="tk-c-1")
    assert posted.marker == "tk-c-1" and "testkase-marker" not in posted.body
    comments = jira.tracker.list_comments(issue)
    assert comments[0].body == "Reproduced on staging."
    assert comments[0].marker is None and comments[0].author == "Dana Developer"
    assert comments[1].marker == "tk-c-1" and "TC-4" in comments[1].body
    assert jira.tracker.get_issue(issue.ref).comment_count == 2  # type: ignore[union-attr]


def test_set_status_walks_the_restricted_workflow(jira: JiraEnv) -> None:
    issue = jira.tracker.create_issue(defect("tk-status"))
    jira.tracker.set_status(issue, "Done")  # To Do -> In Progress -> In Review -> Done
    assert jira.issue(issue.id)["status"] == "Done"
    jira.tracker.set_status(issue, "in progress")  # Done -> (Reopen) To Do -> In Progress
    assert jira.issue(issue.id)["status"] == "In Progress"
    jira.tracker.set_status(issue, "In Progress")  # already there: nothing to do
    assert jira.issue(issue.id)["status"] == "In Progress"


def test_unreachable_status_lists_what_is_reachable_and_leaves_the_issue(jira: JiraEnv) -> None:
    issue = jira.tracker.create_issue(defect("tk-wontdo"))
    with pytest.raises(RejectedError) as caught:
        jira.tracker.set_status(issue, "Won't Do")
    assert "no path" in caught.value.message
    assert caught.value.exit_code == ExitCode.REJECTED
    for status in ("In Progress", "In Review", "Done"):
        assert status in caught.value.hint
    assert jira.issue(issue.id)["status"] == "To Do"  # walked back where it started


def test_unknown_status_is_refused_without_touching_the_issue(jira: JiraEnv) -> None:
    issue = jira.tracker.create_issue(defect("tk-closed"))
    before = jira.issue(issue.id)["updated"]
    with pytest.raises(RejectedError, match="no status 'Closed'") as caught:
        jira.tracker.set_status(issue, "Closed")
    assert "Won't Do" in caught.value.hint
    assert jira.issue(issue.id)["updated"] == before


def test_required_transition_field_is_reported(jira: JiraEnv) -> None:
    jira.config(resolutions=["Fixed", "Won't Fix"])  # no "Done" resolution to fill in
    issue = jira.tracker.create_issue(defect("tk-resolution"))
    with pytest.raises(RejectedError) as caught:
        jira.tracker.set_status(issue, "Done")
    assert "Resolution (resolution)" in caught.value.message
    assert "the issue is in To Do" in caught.value.message
    assert jira.issue(issue.id)["status"] == "To Do"


def test_priorities_map_to_the_closest_level_of_the_instance(jira: JiraEnv) -> None:
    mapping = jira.tracker.priority_mapping()
    if jira.flavor == "cloud":
        assert mapping[DefectPriority.BLOCKER] == "Highest"
        assert mapping[DefectPriority.TRIVIAL] == "Lowest"
    else:  # Blocker, Critical, Major, Minor: no Trivial
        assert mapping[DefectPriority.BLOCKER] == "Blocker"
        assert mapping[DefectPriority.TRIVIAL] == "Minor"
    issue = jira.tracker.create_issue(defect("tk-prio", priority=DefectPriority.TRIVIAL))
    assert issue.priority == mapping[DefectPriority.TRIVIAL]
    jira.tracker.set_priority(issue, DefectPriority.CRITICAL)
    assert jira.issue(issue.id)["priority"] == mapping[DefectPriority.CRITICAL]


def test_issue_type_not_enabled_lists_the_types(jira: JiraEnv) -> None:
    jira.config(issue_types=["Story", "Task"])
    with pytest.raises(NotFoundError, match="issue type 'Bug' is not enabled") as caught:
        jira.tracker.create_issue(defect("tk-type"))
    assert "Story, Task" in caught.value.hint
    assert jira.issues(DEFECT_LABEL) == []


def test_required_fields_on_create_are_named(jira: JiraEnv) -> None:
    jira.config(required_fields={"customfield_10100": "Severity"})
    with pytest.raises(RejectedError, match=r"Severity \(customfield_10100\)"):
        jira.tracker.create_issue(defect("tk-required"))
    assert jira.issues(DEFECT_LABEL) == []


def test_moved_issue_keeps_its_id_and_gets_a_new_key(jira: JiraEnv) -> None:
    issue = next(iter(jira.tracker.iter_requirements(updated_since=None)))
    jira.post(f"issues/{issue.id}/move", {"project": "OTHER"})
    moved = jira.tracker.follow_move(issue)
    assert moved is not None and moved.id == issue.id and moved.key.startswith("OTHER-")
    assert jira.tracker.get_issue(issue.ref) == moved
    listed = {i.id for i in jira.tracker.iter_requirements(updated_since=None)}
    assert issue.id not in listed  # left the project, so left the filter


def test_deleted_issue_reads_as_gone(jira: JiraEnv) -> None:
    issue = next(iter(jira.tracker.iter_requirements(updated_since=None)))
    jira.control.delete(f"/_sandbox/issues/{issue.id}")
    assert jira.tracker.get_issue(issue.ref) is None
    assert issue.id not in set(jira.tracker.iter_requirement_ids())


def test_multi_line_titles_become_one_line_summaries(jira: JiraEnv) -> None:
    new = NewIssue("Totals wrong\nafter refund", "", DefectPriority.MINOR, DefectStatus.OPEN, "m-t")
    created = jira.tracker.create_issue(new)
    assert created.title == "Totals wrong after refund"
    assert created.description == "" and created.marker == "m-t"
