"""The adapter replayed against Atlassian's own responses (vcrpy cassettes built from
shared/samples/jira by tests/cassettes/jira/build_cassettes.py)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
import vcr
from vcr.errors import CannotOverwriteExistingCassetteException

from testkase_cli.domain.models import (
    ConnectionSettings,
    DefectPriority,
    DefectStatus,
    NewIssue,
)
from testkase_cli.errors import AuthError, NotFoundError, RejectedError
from testkase_cli.trackers.http import RetryPolicy
from testkase_cli.trackers.jira import JiraTracker, open_jira

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "jira"
TOKEN = "ATATT-cassette-token"
NO_RETRY = RetryPolicy(attempts=1, budget_s=0)


def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_jira_cassettes", CASSETTES / "build_cassettes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def replay(name: str) -> vcr.cassette.CassetteContextDecorator:
    return vcr.VCR(
        record_mode="none",
        match_on=("method", "scheme", "host", "port", "path", "query"),
        filter_headers=["authorization"],
    ).use_cassette(str(CASSETTES / name))


@pytest.fixture
def cloud() -> Iterator[JiraTracker]:
    settings = ConnectionSettings(
        platform="jira",
        url="https://your-domain.atlassian.net",
        project="EX",
        deployment="cloud",
        email="mia@example.com",
        issue_type="Bug",
    )
    tracker = open_jira(settings, TOKEN, policy=NO_RETRY)
    yield tracker
    tracker.close()


@pytest.fixture
def server() -> Iterator[JiraTracker]:
    settings = ConnectionSettings(
        platform="jira", url="https://jira.example.com", project="DEMO", deployment="server"
    )
    tracker = open_jira(settings, TOKEN, policy=NO_RETRY)
    yield tracker
    tracker.close()


def test_cassettes_are_built_from_the_current_samples(shared_dir: Path) -> None:
    for name, text in builder().build(shared_dir).items():
        assert (CASSETTES / name).read_text(encoding="utf-8") == text, name
    for path in CASSETTES.glob("*.yaml"):
        content = path.read_text(encoding="utf-8")
        assert TOKEN not in content and "<scrubbed>" in content


def test_whoami_from_the_documented_user(cloud: JiraTracker) -> None:
    with replay("cloud_whoami.yaml"):
        account = cloud.whoami()
    assert (account.id, account.name, account.email) == (
        "5b10a2844c20165700ede21g",
        "Mia Krystof",
        "mia@example.com",
    )
    assert account.time_zone == "Australia/Sydney"


def test_documented_issues_and_comments(cloud: JiraTracker) -> None:
    with replay("cloud_issue.yaml"):
        example = cloud.get_issue("10002")
        real = cloud.get_issue("6001")
        assert example is not None and real is not None
        comments = cloud.list_comments(example)
        posted = cloud.add_comment(example, "Lorem ipsum", marker="tk-1")
    assert (example.id, example.key, example.description) == (
        "10002",
        "ED-1",
        "Main order flow broken",
    )
    assert example.url == "https://your-domain.atlassian.net/browse/ED-1"
    assert (real.status, real.status_category, real.priority) == (
        "Code Complete",
        "indeterminate",
        "Low",
    )
    assert real.created == datetime(2018, 8, 6, 14, 21, 20, 745000, tzinfo=UTC)  # -0500
    assert [(c.id, c.author, c.marker) for c in comments] == [("10000", "Mia Krystof", None)]
    assert comments[0].body.startswith("Lorem ipsum dolor sit amet")
    assert comments[0].created == datetime(2021, 1, 17, 12, 34, tzinfo=UTC)
    assert posted.id == "10000" and posted.body.startswith("Lorem ipsum")


def test_documented_enhanced_search_result(cloud: JiraTracker) -> None:
    with replay("cloud_listing.yaml"):
        issues = list(cloud.iter_requirements(updated_since=None))
    assert [(i.id, i.key, i.description) for i in issues] == [
        ("10002", "ED-1", "Main order flow broken")  # a plain string where v3 has ADF
    ]


def test_project_search_follows_is_last(cloud: JiraTracker) -> None:
    """The example says `isLast: false` (2 of 7): the adapter asks for the next page."""
    with (
        replay("cloud_projects.yaml"),
        pytest.raises(CannotOverwriteExistingCassetteException, match="startAt=2"),
    ):
        cloud.list_projects()


def test_documented_create_metadata(cloud: JiraTracker) -> None:
    new = NewIssue("Order flow broken", "It fails.", DefectPriority.MINOR, DefectStatus.OPEN, "m")
    with replay("cloud_create.yaml"):
        with pytest.raises(RejectedError, match=r"Assignee \(assignee\)") as caught:
            cloud.create_issue(new)  # the example makes Assignee required, without default
        mapping = cloud.priority_mapping()  # no priority on that screen: the instance's list
    assert caught.value.code == "required_fields"
    assert mapping == {
        DefectPriority.BLOCKER: "Major",
        DefectPriority.CRITICAL: "Major",
        DefectPriority.MAJOR: "Major",
        DefectPriority.MINOR: "Major",
        DefectPriority.TRIVIAL: "Trivial",
    }


def test_documented_errors(cloud: JiraTracker) -> None:
    with replay("cloud_errors.yaml"):
        with pytest.raises(RejectedError, match="/rest/api/3/search/jql") as removed:
            cloud.http.request("GET", "/rest/api/3/search", params={"jql": "project = EX"})
        with pytest.raises(RejectedError, match="Unbounded JQL queries are not allowed"):
            list(cloud.search.issues("ORDER BY updated", ["summary"]))
        with pytest.raises(AuthError) as refused:
            cloud.whoami()
    assert removed.value.code == "api_removed"
    assert "email does not match" in refused.value.hint


def test_documented_server_9_create_metadata(server: JiraTracker) -> None:
    with replay("server_createmeta.yaml"):
        types = server.list_issue_types("DEMO")
        with pytest.raises(NotFoundError, match="Issue Does Not Exist"):
            server.http.request(
                "GET", "/rest/api/2/issue/createmeta", params={"projectKeys": "DEMO"}
            )
    assert types == ["Epic", "Task"]
