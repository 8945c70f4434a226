"""Failures a Jira user meets, as typed errors with the troubleshooting hints (SPEC 7)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from jira_env import FAST, JiraEnv, settings

from testkase_cli.domain.models import DefectPriority, DefectStatus, NewIssue
from testkase_cli.errors import (
    AuthError,
    ExitCode,
    RejectedError,
    UnreachableError,
)
from testkase_cli.ports import DEFECT_LABEL
from testkase_cli.sandbox.core import App
from testkase_cli.sandbox.jira import create_app
from testkase_cli.sandbox.jira_store import SANDBOX_TOKEN
from testkase_cli.trackers.http import UncertainWriteError
from testkase_cli.trackers.jira import client, detect_deployment, open_jira
from testkase_cli.trackers.jira.client import RECENT_KEYS


def defect(marker: str) -> NewIssue:
    return NewIssue(
        title="Search returns nothing for umlauts",
        description="Searching for *Müsli* shows no results.",
        priority=DefectPriority.CRITICAL,
        status=DefectStatus.OPEN,
        marker=marker,
    )


def test_wrong_token_is_an_auth_error_with_the_deployment_hint(jira: JiraEnv) -> None:
    tracker = jira.tracker_for(token="expired-token-4711")
    with pytest.raises(AuthError) as caught:
        tracker.whoami()
    error = caught.value
    assert error.exit_code == ExitCode.AUTH
    if jira.flavor == "cloud":
        assert "email does not match the token's account" in error.hint
    else:
        assert "personal access token is invalid or expired" in error.hint
    assert "expired-token-4711" not in f"{error.message} {error.hint}"


def test_cloud_token_of_another_account_is_refused(serve: Callable[[App], str]) -> None:
    url = serve(create_app(flavor="cloud"))
    tracker = open_jira(settings(url, "cloud", email="someone@example.com"), SANDBOX_TOKEN)
    with pytest.raises(AuthError, match=r"\(401\)") as caught:
        list(tracker.iter_requirements(updated_since=None))
    assert "the API token may be expired" in caught.value.hint
    tracker.close()


def test_bearer_token_against_cloud_says_to_connect_as_cloud(
    serve: Callable[[App], str],
) -> None:
    url = serve(create_app(flavor="cloud"))
    tracker = open_jira(settings(url, "server"), SANDBOX_TOKEN, policy=FAST)
    with pytest.raises(AuthError, match="personal access token") as caught:
        tracker.whoami()
    assert "--deployment cloud --email" in caught.value.hint
    tracker.close()


def test_forbidden_write_is_rejected_with_the_trackers_reason(jira: JiraEnv) -> None:
    jira.config(deny=[r"POST /rest/api/\d/issue"])
    with pytest.raises(RejectedError, match="You do not have permission") as caught:
        jira.tracker.create_issue(defect("tk-403"))
    assert caught.value.code == "forbidden"
    assert caught.value.exit_code == ExitCode.REJECTED
    assert "permission" in caught.value.hint


def test_removed_search_api_is_explained(serve: Callable[[App], str]) -> None:
    url = serve(create_app(flavor="cloud"))
    tracker = open_jira(settings(url, "cloud"), SANDBOX_TOKEN, policy=FAST)
    with pytest.raises(RejectedError, match=r"removed the API .*\(410\)") as caught:
        tracker.http.request("GET", "/rest/api/3/search", params={"jql": "project = PROJ"})
    assert caught.value.code == "api_removed"
    assert "/rest/api/3/search/jql" in caught.value.message
    assert "upgrade testkase" in caught.value.hint
    tracker.close()


def test_rate_limit_on_every_third_request_still_completes(jira: JiraEnv) -> None:
    jira.faults(rate_limit_every=3, retry_after_s=0)
    tracker = jira.tracker
    tracker.whoami()
    assert len(list(tracker.iter_requirements(updated_since=None))) == 12
    issue = tracker.create_issue(defect("tk-429"))
    tracker.add_comment(issue, "seen under load", marker="tk-429-c")
    tracker.set_status(issue, "Done")
    assert jira.issue(issue.id)["status"] == "Done"
    assert len(jira.issues(DEFECT_LABEL)) == 1  # the retried POST created one issue
    assert len(jira.issue(issue.id)["comments"]) == 1
    assert jira.stats()["requests"] == tracker.requests  # every attempt, 429s included
    assert tracker.requests // 3 >= 5  # so at least five answers were 429


def test_rate_limit_past_the_budget_is_unreachable(jira: JiraEnv) -> None:
    jira.faults(rate_limit_every=1, retry_after_s=0)
    with pytest.raises(UnreachableError, match="429") as caught:
        jira.tracker.whoami()
    assert caught.value.exit_code == ExitCode.UNREACHABLE
    assert "nothing was lost" in caught.value.hint


def test_server_errors_past_the_budget_are_unreachable(jira: JiraEnv) -> None:
    jira.faults(error_burst=100, error_status=503)
    with pytest.raises(UnreachableError):
        list(jira.tracker.iter_requirements(updated_since=None))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_instance_names_the_url_and_the_vpn() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(UnreachableError) as caught:
        detect_deployment(url, policy=FAST)
    assert url in caught.value.message and "VPN" in caught.value.hint
    tracker = open_jira(settings(url, "server"), SANDBOX_TOKEN, policy=FAST)
    with pytest.raises(UnreachableError) as caught:
        tracker.whoami()
    assert "VPN" in caught.value.hint
    tracker.close()


def test_deployment_is_detected_from_server_info(serve: Callable[[App], str]) -> None:
    assert detect_deployment(serve(create_app(flavor="cloud"))) == "cloud"
    url = serve(create_app(flavor="server"))
    assert detect_deployment(url) == "server"
    with pytest.raises(UnreachableError, match="does not answer like a Jira site") as caught:
        detect_deployment(f"{url}/wiki")  # a wrong path: no serverInfo there
    assert "the address you open Jira at" in caught.value.hint


def test_lost_create_response_is_uncertain_and_found_by_marker(jira: JiraEnv) -> None:
    jira.faults(lose_response=[r"POST /rest/api/\d/issue"])
    with pytest.raises(UncertainWriteError):
        jira.tracker.create_issue(defect("tk-lost-1"))
    jira.faults(lose_response=[])
    found = jira.tracker.find_by_marker("tk-lost-1")
    rows = jira.issues(DEFECT_LABEL)
    assert len(rows) == 1  # the write happened once, and only once
    assert found is not None and found.id == rows[0]["id"]


def test_lost_create_under_search_lag_is_found_among_the_newest_keys(
    cloud_jira: JiraEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cloud search is eventually consistent: the search misses, the key probe finds."""
    jira = cloud_jira
    jira.config(search_lag_s=600)
    jira.faults(lose_response=[r"POST /rest/api/3/issue"])
    with pytest.raises(UncertainWriteError):
        jira.tracker.create_issue(defect("tk-lag-1"))
    jira.faults(lose_response=[])
    assert list(jira.tracker.iter_defects(updated_since=None)) == []  # not indexed yet
    found = jira.tracker.find_by_marker("tk-lag-1")
    assert found is not None and found.marker == "tk-lag-1"
    for n in range(RECENT_KEYS + 5):  # a busy project: more than one probe batch
        jira.post("issues", {"title": f"Busy day {n}"})
    jira.faults(lose_response=[r"POST /rest/api/3/issue"])
    with pytest.raises(UncertainWriteError):
        jira.tracker.create_issue(defect("tk-lag-2"))
    jira.faults(lose_response=[])
    assert jira.tracker.find_by_marker("tk-lag-2") is not None
    # The limit: past RECENT_KEYS * PROBE_BATCHES new issues the probe gives up.
    monkeypatch.setattr(client, "PROBE_BATCHES", 1)
    assert jira.tracker.find_by_marker("tk-lag-2") is None
    jira.config(search_lag_s=0)  # once the index catches up, the search finds it
    assert jira.tracker.find_by_marker("tk-lag-2") is not None


def test_lost_transition_response_is_uncertain_and_a_retry_is_safe(jira: JiraEnv) -> None:
    issue = jira.tracker.create_issue(defect("tk-lost-transition"))
    jira.faults(lose_response=[r"POST /rest/api/\d/issue/\d+/transitions"])
    with pytest.raises(UncertainWriteError):
        jira.tracker.set_status(issue, "In Progress")
    jira.faults(lose_response=[])
    assert jira.issue(issue.id)["status"] == "In Progress"  # it did happen, and stayed
    jira.tracker.set_status(issue, "In Progress")  # the retry finds it done
    assert jira.issue(issue.id)["status"] == "In Progress"
