"""The adapter replayed against GitLab's own published responses (vcrpy cassettes built
from shared/samples/gitlab by tests/cassettes/gitlab/build_cassettes.py)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
import vcr

from testkase_cli.domain.models import ConnectionSettings, DefectPriority, DefectStatus, NewIssue
from testkase_cli.trackers.gitlab import GitLabTracker, open_gitlab
from testkase_cli.trackers.http import RetryPolicy

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "gitlab"
TOKEN = "glpat-cassette-token"


def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_cassettes", CASSETTES / "build_cassettes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tracker() -> Iterator[GitLabTracker]:
    settings = ConnectionSettings(
        platform="gitlab", url="https://gitlab.example.com", project="my-group/my-project"
    )
    opened = open_gitlab(settings, TOKEN, policy=RetryPolicy(attempts=1, budget_s=0))
    yield opened
    opened.close()


def replay(name: str) -> vcr.cassette.CassetteContextDecorator:
    return vcr.VCR(
        record_mode="none",
        match_on=("method", "scheme", "host", "path"),
        filter_headers=["PRIVATE-TOKEN"],
    ).use_cassette(str(CASSETTES / name), allow_playback_repeats=True)


def test_cassettes_are_built_from_the_current_samples(shared_dir: Path) -> None:
    built = builder().build(shared_dir)
    for name, text in built.items():
        assert (CASSETTES / name).read_text(encoding="utf-8") == text, name
    for path in CASSETTES.glob("*.yaml"):
        assert TOKEN not in path.read_text(encoding="utf-8")
        assert "<scrubbed>" in path.read_text(encoding="utf-8")


def test_whoami_from_the_documented_user_and_token(tracker: GitLabTracker) -> None:
    with replay("whoami.yaml"):
        account = tracker.whoami()
    assert (account.id, account.name, account.email) == ("1", "John Smith", "john@example.com")
    assert account.token_expires is None  # the sample token never expires


def test_a_documented_issue_and_its_system_only_notes(tracker: GitLabTracker) -> None:
    with replay("issue.yaml"):
        issue = tracker.get_issue("4:1")
        assert issue is not None
        comments = tracker.list_comments(issue)
    assert (issue.id, issue.ref, issue.key) == ("41", "4:1", "my-group/my-project#1")
    assert (issue.status, issue.priority, issue.comment_count) == ("closed", None, 1)
    assert issue.created == datetime(2016, 1, 4, 15, 31, 46, 176000, tzinfo=UTC)
    assert issue.description == "Omnis vero earum sunt corporis dolor et placeat."
    assert comments == []  # both sample notes are system notes


def test_a_documented_listing(tracker: GitLabTracker) -> None:
    with replay("listing.yaml"):
        issues = list(tracker.iter_requirements(updated_since=datetime(2016, 1, 1, tzinfo=UTC)))
    assert [(i.id, i.labels, i.moved_to_id) for i in issues] == [("41", ("foo", "bar"), None)]


def test_a_defect_push_against_documented_create_and_update(tracker: GitLabTracker) -> None:
    new = NewIssue(
        "Issues with auth", "Found by TC-1", DefectPriority.MAJOR, DefectStatus.CLOSED, "m"
    )
    with replay("defect.yaml"):
        created = tracker.create_issue(new)
    assert (created.id, created.ref, created.status) == ("85", "4:15", "closed")
    assert created.description == "" and created.marker is None  # `description: null`
    assert created.labels == ("bug",)
