"""Every GitLab failure becomes a KaseError a user can act on, without the token."""

from __future__ import annotations

import socket

import pytest
from gitlab_support import Control, TrackerFactory

from testkase_cli.domain.models import DefectPriority, DefectStatus, NewIssue
from testkase_cli.errors import (
    AuthError,
    ExitCode,
    KaseError,
    NotFoundError,
    RejectedError,
    UnreachableError,
)
from testkase_cli.sandbox.core import Request, Response
from testkase_cli.sandbox.gitlab import EXPIRED_TOKEN, READONLY_TOKEN, REVOKED_TOKEN, GitLabApp
from testkase_cli.trackers.http import RetryPolicy, UncertainWriteError

DEFECT = NewIssue(
    title="Coupon ignored",
    description="Seen in CY-1.",
    priority=DefectPriority.MAJOR,
    status=DefectStatus.OPEN,
    marker="tk-web-DEF-9",
)


def failure(call: object) -> KaseError:
    with pytest.raises(KaseError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def assert_clean(error: KaseError, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in error.message and secret not in error.hint


def test_unknown_expired_and_revoked_tokens_get_different_hints(
    make_tracker: TrackerFactory,
) -> None:
    seen = {}
    for token in ("glpat-unknown-123", EXPIRED_TOKEN, REVOKED_TOKEN):
        error = failure(make_tracker(token=token).whoami)
        assert isinstance(error, AuthError) and error.exit_code == ExitCode.AUTH
        assert "/-/user_settings/personal_access_tokens" in error.hint
        assert_clean(error, token)
        seen[error.code] = error
    assert set(seen) == {"token_invalid", "token_expired", "token_revoked"}
    assert "expired" in seen["token_expired"].message
    assert "revoked" in seen["token_revoked"].message
    assert "gitlab.com token does not work" in seen["token_invalid"].hint
    assert len({e.hint for e in seen.values()}) == 3


def test_a_read_only_token_is_told_to_get_the_api_scope(make_tracker: TrackerFactory) -> None:
    error = failure(lambda: make_tracker(token=READONLY_TOKEN).create_issue(DEFECT))
    assert isinstance(error, AuthError) and error.code == "insufficient_scope"
    assert "`api` scope" in error.hint


def test_a_missing_project_says_typo_or_no_access(make_tracker: TrackerFactory) -> None:
    for project in ("demo/nope", "999"):
        tracker = make_tracker(project=project)
        error = failure(lambda t=tracker: list(t.iter_requirements(updated_since=None)))
        assert isinstance(error, NotFoundError) and error.code == "project_not_found"
        assert error.exit_code == ExitCode.NOT_FOUND
        assert project in error.message
        assert "typo" in error.hint and "cannot see" in error.hint
    by_key = failure(lambda: make_tracker().get_project("Demo"))  # a path needs its group
    assert isinstance(by_key, NotFoundError) and by_key.code == "project_not_found"


def test_a_wrong_base_url_is_named(make_tracker: TrackerFactory, base_url: str) -> None:
    error = failure(make_tracker(url=f"{base_url}/gitlab").whoami)
    assert isinstance(error, NotFoundError) and error.code == "route_not_found"
    assert "instance root" in error.hint


def test_validation_conflict_and_permission_refusals(
    make_tracker: TrackerFactory,
) -> None:
    tracker = make_tracker()
    too_long = NewIssue(**{**DEFECT.__dict__, "title": "x" * 300})
    error = failure(lambda: tracker.create_issue(too_long))
    assert isinstance(error, RejectedError) and error.code == "validation"
    assert "too long" in error.message and error.exit_code == ExitCode.REJECTED
    conflict = failure(
        lambda: tracker.funnel.request(
            "POST", "/projects/1/labels", json={"name": "testable", "color": "#fff"}
        )
    )
    assert isinstance(conflict, RejectedError) and conflict.code == "conflict"
    assert "Label already exists" in conflict.message
    public = make_tracker(project="community/handbook")
    assert list(public.iter_requirements(updated_since=None)) == []  # public: readable
    refused = failure(lambda: public.create_issue(DEFECT))
    assert isinstance(refused, RejectedError) and refused.code == "forbidden"
    assert "role" in refused.hint


def test_rate_limits_and_server_errors_past_the_budget(
    make_tracker: TrackerFactory, control: Control
) -> None:
    policy = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.02, budget_s=2.0)
    control.faults(rate_limit_every=1, retry_after_s=0)
    limited = failure(make_tracker(policy=policy).whoami)
    assert isinstance(limited, UnreachableError) and limited.code == "rate_limited"
    assert limited.exit_code == ExitCode.UNREACHABLE
    control.faults(rate_limit_every=0, error_burst=10, error_status=502)
    broken = failure(make_tracker(policy=policy).whoami)
    assert isinstance(broken, UnreachableError) and broken.code == "server_error"


def test_an_html_502_page_is_reported_as_the_instance_being_down(
    make_tracker: TrackerFactory, app: GitLabApp, base_url: str
) -> None:
    page = b"<!DOCTYPE html><html><head><title>GitLab is not responding (502)</title></head></html>"

    def front_end_down(request: Request) -> Response:
        return Response(status=502, raw=page, content_type="text/html; charset=utf-8")

    app.dispatch = front_end_down  # type: ignore[method-assign]
    policy = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.01, budget_s=1.0)
    error = failure(make_tracker(policy=policy).whoami)
    assert isinstance(error, UnreachableError) and error.code == "server_error"
    assert "error page" in error.message and "<html" not in error.message
    assert base_url in error.hint


def test_an_unreachable_self_managed_instance(make_tracker: TrackerFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request
    policy = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.01, budget_s=1.0)
    error = failure(make_tracker(url=f"http://127.0.0.1:{port}", policy=policy).whoami)
    assert isinstance(error, UnreachableError) and error.exit_code == ExitCode.UNREACHABLE
    assert "check the URL" in error.hint


def test_the_retry_budget_ends_with_what_went_wrong(
    make_tracker: TrackerFactory, control: Control
) -> None:
    # Attempts left but no time: the error names the last failure, not "the budget".
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    short = RetryPolicy(attempts=50, base_s=0.2, cap_s=0.2, budget_s=0.3)
    down = failure(make_tracker(url=f"http://127.0.0.1:{port}", policy=short).whoami)
    assert isinstance(down, UnreachableError) and "ConnectError" in down.message
    control.faults(error_burst=100, error_status=503)
    busy = failure(make_tracker(policy=short).whoami)
    assert isinstance(busy, UnreachableError) and busy.code == "server_error"
    assert "Service Unavailable" in busy.message


def test_429_on_every_third_request_still_completes(
    make_tracker: TrackerFactory, control: Control
) -> None:
    control.faults(rate_limit_every=3, retry_after_s=0)
    tracker = make_tracker()
    assert tracker.whoami().id == "7"
    assert len(list(tracker.iter_requirements(updated_since=None))) == 5
    defect = tracker.create_issue(DEFECT)
    tracker.add_comment(defect, "Retested: still failing", marker="tk-c-9")
    tracker.set_priority(defect, DefectPriority.BLOCKER)
    tracker.set_status(defect, "closed")
    final = tracker.find_by_marker(DEFECT.marker)
    assert final is not None and (final.status, final.priority) == ("closed", "critical")
    assert len(control.issues(label="testkase-defect")) == 1  # no POST ran twice
    assert len(control.issue(defect.id)["comments"]) == 1
    assert tracker.requests > 12  # the 429s were retried


def test_a_lost_label_answer_is_sent_again_rather_than_uncertain(
    make_tracker: TrackerFactory, control: Control
) -> None:
    # create_issue makes sure of its labels first; the answer to a created one is lost.
    tracker = make_tracker()
    control.faults(lose_response=["POST /api/v4/projects/[^/]+/labels"], lose_every=1)
    created = tracker.create_issue(DEFECT)
    control.faults(lose_response=[])
    assert created.title == DEFECT.title
    assert len(control.issues(label="testkase-defect")) == 1


def test_a_lost_create_response_is_uncertain_and_found_by_marker(
    make_tracker: TrackerFactory, control: Control
) -> None:
    tracker = make_tracker()
    control.faults(lose_response=["POST /api/v4/projects/[^/]+/issues"])
    error = failure(lambda: tracker.create_issue(DEFECT))
    assert isinstance(error, UncertainWriteError)
    assert error.exit_code == ExitCode.UNREACHABLE
    control.faults(lose_response=[])
    found = tracker.find_by_marker(DEFECT.marker)
    assert found is not None and found.title == DEFECT.title
    assert len(control.issues(label="testkase-defect")) == 1
