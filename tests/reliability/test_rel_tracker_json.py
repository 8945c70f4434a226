"""Tracker JSON with missing or wrongly typed fields, through the adapters' mappers.

Real sample payloads (/work/shared/samples) are mutated by hypothesis: a key removed, a
value replaced by one of another JSON type, a nested object emptied. Each mapper must
return a value or raise a KaseError (a sync then reports it), never a KeyError,
TypeError, AttributeError or ValueError that would end as an internal error (exit 1).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.conftest import examples
from tests.reliability.rel_fuzz import mutated

from testkase_cli.domain.models import RemoteComment, RemoteIssue
from testkase_cli.errors import KaseError
from testkase_cli.trackers.gitlab import mapper as gitlab
from testkase_cli.trackers.jira import mapper as jira

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
EXAMPLES = examples(60, 1500)
TRIED: dict[str, int] = {}


def _load(name: str) -> Any:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"sample {path} not found")
    return json.loads(path.read_text())


def _jira_issues() -> list[dict[str, Any]]:
    issues = [
        _load("jira/cloud-v3-issue-get.official-example.json"),
        _load("jira/cloud-v3-issue-subtask-get.real-trimmed.json"),
        *_load("jira/cloud-v3-search-jql.official-example.json")["issues"],
        *_load("jira/cloud-v3-issue-bulkfetch.official-example.json")["issues"],
        _load("jira/webhook-cloud-issue_updated-minimal.real.json")["issue"],
        _load("jira/webhook-cloud-comment_created.real.json")["issue"],
    ]
    return [i for i in issues if isinstance(i, dict)]


def _jira_comments() -> list[dict[str, Any]]:
    return [
        *_load("jira/cloud-v3-comments-get.official-example.json")["comments"],
        _load("jira/cloud-v3-comment-post-201.official-example.json"),
        _load("jira/webhook-cloud-comment_created.real.json")["comment"],
        _load("jira/webhook-server-8.14-comment_created.real.json")["comment"],
    ]


def _gitlab_issues() -> list[dict[str, Any]]:
    return [
        _load("gitlab/issue.json"),
        _load("gitlab/issue_created.json"),
        _load("gitlab/issue_moved.json"),
        _load("gitlab/issue_closed_via_state_event.json"),
        *_load("gitlab/issues_list.json"),
    ]


def _gitlab_notes() -> list[dict[str, Any]]:
    return [*_load("gitlab/notes_list.json"), _load("gitlab/note_created.json")]


def _survives(name: str, fn: Callable[[Any], object], data: Any, kind: type) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1
    try:
        result = fn(data)
    except KaseError:
        return
    assert isinstance(result, kind)


COMMON = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


@pytest.mark.parametrize("codec", [jira.AdfCodec(), jira.WikiCodec()], ids=["cloud", "server"])
@COMMON
@given(data=st.data())
def test_jira_issue_json_maps_or_raises_a_kase_error(
    codec: jira.Codec, data: st.DataObject
) -> None:
    doc = data.draw(mutated(_jira_issues()))
    _survives(
        "jira issue",
        lambda d: jira.issue_from_json(d, codec=codec, site="https://acme.atlassian.net"),
        doc,
        RemoteIssue,
    )


@pytest.mark.parametrize("codec", [jira.AdfCodec(), jira.WikiCodec()], ids=["cloud", "server"])
@COMMON
@given(data=st.data())
def test_jira_comment_json_maps_or_raises_a_kase_error(
    codec: jira.Codec, data: st.DataObject
) -> None:
    doc = data.draw(mutated(_jira_comments()))
    _survives("jira comment", lambda d: jira.comment_from_json(d, codec=codec), doc, RemoteComment)


@COMMON
@given(data=st.data())
def test_gitlab_issue_json_maps_or_raises_a_kase_error(data: st.DataObject) -> None:
    doc = data.draw(mutated(_gitlab_issues()))
    _survives("gitlab issue", gitlab.to_issue, doc, RemoteIssue)


@COMMON
@given(data=st.data())
def test_gitlab_note_json_maps_or_raises_a_kase_error(data: st.DataObject) -> None:
    doc = data.draw(mutated(_gitlab_notes()))
    _survives("gitlab note", gitlab.to_comment, doc, RemoteComment)


def test_the_unmutated_samples_map_to_what_they_say() -> None:
    """The fuzz bases themselves are good input: the mappers read them fully."""
    for doc in _jira_issues():
        issue = jira.issue_from_json(doc, codec=jira.AdfCodec(), site="https://x")
        assert issue.id == str(doc["id"])
    for doc in _gitlab_issues():
        issue = gitlab.to_issue(doc)
        assert issue.id == str(doc["id"])
        assert issue.ref == f"{doc['project_id']}:{doc['iid']}"
    for note in _gitlab_notes():
        assert gitlab.to_comment(note).id == str(note["id"])
    for comment in _jira_comments():
        assert jira.comment_from_json(comment, codec=jira.WikiCodec()).id == str(comment["id"])
