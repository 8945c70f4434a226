"""The emulator's JQL: the subset testkase and its users send, and Jira's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testkase_cli.sandbox.jira_jql import JqlError, compile_query, parse
from testkase_cli.sandbox.jira_store import JiraState


@pytest.fixture
def state() -> JiraState:
    jira = JiraState("cloud")
    base = 1_741_600_800_000  # 2025-03-10 10:00:00 UTC
    rows = [
        ("Login with SSO", ["auth", "testable"], "To Do", base),
        ("Export orders as CSV", [], "In Progress", base + 60_000),
        ("Defect: login loops", ["testkase-defect"], "Done", base + 120_000),
        ("Dark mode for the shop", ["ui"], "In Review", base + 3_600_000),
    ]
    for title, labels, status, updated in rows:
        jira.create(summary=title, labels=labels, status=status, created=base, updated=updated)
    jira.create(summary="Rotate keys", project="OTHER", created=base, updated=base)
    return jira


def titles(state: JiraState, jql: str) -> list[str]:
    return [state.issues[i].summary for i in state.listing(jql).ids]


def test_the_requirement_filter_keeps_unlabelled_issues(state: JiraState) -> None:
    jql = (
        'project = "PROJ" AND (labels IS EMPTY OR labels NOT IN (testkase-defect)) '
        "ORDER BY updated ASC, id ASC"
    )
    assert titles(state, jql) == [
        "Login with SSO",
        "Export orders as CSV",
        "Dark mode for the shop",
    ]


def test_not_in_never_matches_issues_without_labels(state: JiraState) -> None:
    """Jira's gotcha the requirement filter works around."""
    found = titles(state, "project = PROJ AND labels NOT IN (testkase-defect) ORDER BY id")
    assert "Export orders as CSV" not in found
    assert "Login with SSO" in found


def test_boolean_precedence_and_negation(state: JiraState) -> None:
    jql = "project = OTHER OR labels = ui AND status = 'In Review' ORDER BY key ASC"
    assert titles(state, jql) == ["Rotate keys", "Dark mode for the shop"]  # OTHER < PROJ
    assert titles(
        state, "NOT (labels = auth OR project = OTHER) AND labels in (ui) ORDER BY id"
    ) == ["Dark mode for the shop"]


def test_dates_are_read_in_the_users_zone_to_the_minute(state: JiraState) -> None:
    state.configure({"time_zone": "Pacific/Honolulu"})  # UTC-10
    assert titles(state, 'project = PROJ AND updated >= "2025-03-10 00:01" ORDER BY id') == [
        "Export orders as CSV",
        "Defect: login loops",
        "Dark mode for the shop",
    ]
    assert titles(state, "project = PROJ AND updated > '2025/03/10 00:59' ORDER BY id") == [
        "Dark mode for the shop"
    ]
    assert titles(state, "project = PROJ AND created < 2025-03-11 ORDER BY id")[0] == (
        "Login with SSO"
    )


def test_text_search_matches_words_and_phrases(state: JiraState) -> None:
    assert titles(state, 'project = PROJ AND text ~ "login"') == [
        "Defect: login loops",
        "Login with SSO",
    ]
    assert titles(state, 'project = PROJ AND summary ~ "\\"loops login\\""') == []
    assert titles(state, 'project = PROJ AND summary ~ "\\"login loops\\""') == [
        "Defect: login loops"
    ]


def test_order_by_descending_and_by_key(state: JiraState) -> None:
    assert titles(state, "project = PROJ ORDER BY updated DESC")[0] == "Dark mode for the shop"
    assert titles(state, "labels is not EMPTY ORDER BY key DESC")[-1] == "Login with SSO"


def test_keys_and_ids_must_exist(state: JiraState) -> None:
    assert titles(state, "key in (PROJ-1, PROJ-2) ORDER BY id") == [
        "Login with SSO",
        "Export orders as CSV",
    ]
    assert titles(state, "id = 10002") == ["Export orders as CSV"]
    with pytest.raises(JqlError, match="An issue with key 'PROJ-99' does not exist"):
        state.listing("key in (PROJ-1, PROJ-99)")


def test_id_ranges_read_like_the_same_bound_written_otherwise(state: JiraState) -> None:
    # `id > X ORDER BY id ASC` (how large results are paged) takes a shortcut: same answer.
    fast = "project = PROJ AND id > 10002 ORDER BY id ASC"
    assert titles(state, fast) == titles(state, "project = PROJ AND id >= 10003 ORDER BY id ASC")
    assert titles(state, fast) == ["Defect: login loops", "Dark mode for the shop"]
    assert titles(state, "id > PROJ-3 AND labels IS EMPTY ORDER BY id") == ["Rotate keys"]
    state.delete(state.issues[10002])
    with pytest.raises(JqlError, match="An issue with key '10002' does not exist for field 'id'"):
        state.listing(fast)


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("universe = 42", "Field 'universe' does not exist or you do not have permission"),
        ("summary = test", "The operator '=' is not supported by the 'summary' field."),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("status = Closed", "The value 'Closed' does not exist for the field 'status'."),
        ("labels in test", "Operator 'in' does not support the non-list value"),
        ("(project = PROJ", "Error in the JQL Query: Expecting ')' before the end of the query."),
        ("project = PROJ labels = x", "Expecting either 'OR' or 'AND' but got 'labels'"),
        ("project =", "Expecting either a value, list or function before the end"),
        ("updated >= yesterday", "Date value 'yesterday' for field 'updated' is invalid."),
        ("updated >= startOfDay()", "Unable to find JQL function 'startOfDay()'."),
        ("project = PROJ ORDER BY summary", "Not able to sort using field 'summary'."),
        ("summary ~ 'a", "The quoted string 'a' has not been completed."),
    ],
)
def test_refusals_use_jiras_messages(state: JiraState, jql: str, message: str) -> None:
    with pytest.raises(JqlError) as caught:
        state.listing(jql)
    assert message in caught.value.message


def test_parser_error_matches_the_official_example(shared_dir: Path) -> None:
    path = shared_dir / "samples/jira/cloud-v3-jql-parse-with-errors.official-example.json"
    sample = json.loads(path.read_text())
    invalid = next(q for q in sample["queries"] if q["query"] == "invalid query")
    with pytest.raises(JqlError) as caught:
        parse("invalid query")
    assert caught.value.message == invalid["errors"][0]


def test_relative_dates_and_now(state: JiraState) -> None:
    recent = state.create(summary="Fresh")
    assert [state.issues[i] for i in state.listing("updated >= -5m").ids] == [recent]
    assert state.listing("updated <= now() AND project = OTHER").ids
    assert compile_query(parse("ORDER BY id"), state) is None
