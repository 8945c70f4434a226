"""The emulator held to GitLab's OpenAPI document and the published samples, and the
adapter's requests held to the parameters the document declares (GitLab silently
ignores unknown parameters, so a misspelt filter would return everything)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from gitlab_openapi import OpenApi
from gitlab_raw import Raw

from testkase_cli.domain.models import (
    ConnectionSettings,
    DefectPriority,
    DefectStatus,
    NewIssue,
)
from testkase_cli.sandbox.core import Request, Response
from testkase_cli.sandbox.gitlab import SANDBOX_TOKEN, GitLabApp
from testkase_cli.trackers.gitlab import open_gitlab
from testkase_cli.trackers.http import RetryPolicy

ISSUES = "/api/v4/projects/{id}/issues"
ISSUE = "/api/v4/projects/{id}/issues/{issue_iid}"
UNDECLARED_BUT_DOCUMENTED = {"pagination"}  # keyset switch: api-notes section 4


def errors_of(openapi: OpenApi, schema: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in openapi.validator(schema).iter_errors(instance)
    ]


def prepared(gitlab: Raw) -> None:
    """Data that exercises optional fields: tasks, closed_by, moves, comments."""
    gitlab("PUT", "/api/v4/projects/1/issues/4", {"state_event": "reopen"})
    gitlab("PUT", "/api/v4/projects/1/issues/4", {"state_event": "close"})
    gitlab("POST", "/api/v4/projects/1/issues/3/notes", {"body": "Checked on staging"})
    gitlab("POST", "/api/v4/projects/1/issues/5/move", {"to_project_id": 2})


@pytest.mark.parametrize("zone", ["Z", "+02:00"])
def test_responses_match_the_openapi_document(gitlab: Raw, openapi: OpenApi, zone: str) -> None:
    gitlab.control("POST", "config", {"utc_offset": zone, "token_expires_at": "2027-01-31"})
    prepared(gitlab)
    checks: list[tuple[str, str, Any]] = [
        ("/api/v4/user", "200", gitlab.get("/api/v4/user").json),
        ("/api/v4/version", "200", gitlab.get("/api/v4/version").json),
        (
            "/api/v4/personal_access_tokens/self",
            "200",
            gitlab.get("/api/v4/personal_access_tokens/self").json,
        ),
        ("/api/v4/projects/{id}", "200", gitlab.get("/api/v4/projects/demo%2Fweb").json),
        (ISSUE, "200", gitlab.get("/api/v4/projects/1/issues/1").json),
        (ISSUE, "200", gitlab.get("/api/v4/projects/1/issues/5").json),
    ]
    for path, status, body in checks:
        schema = openapi.response_schema(path, "get", status)
        assert errors_of(openapi, schema, body) == [], path
    projects_schema = openapi.response_schema("/api/v4/projects", "get", "200")
    for project in gitlab.get("/api/v4/projects?simple=true").json:
        assert errors_of(openapi, projects_schema, project) == []
    issue_schema = openapi.response_schema(ISSUES, "get", "200")
    issues = gitlab.get("/api/v4/projects/1/issues?per_page=100").json
    assert len(issues) == 14
    for issue in issues:  # the document declares one Issue where a list is returned
        assert errors_of(openapi, issue_schema, issue) == [], issue["iid"]
    created = gitlab("POST", "/api/v4/projects/1/issues", {"title": "New", "labels": "x"})
    assert errors_of(openapi, openapi.response_schema(ISSUES, "post", "201"), created.json) == []
    moved = gitlab("POST", "/api/v4/projects/1/issues/6/move", {"to_project_id": 2})
    move_schema = openapi.response_schema(f"{ISSUE}/move", "post", "201")
    assert errors_of(openapi, move_schema, moved.json) == []
    # Notes have no path in the document; their entity is there.
    for note in gitlab.get("/api/v4/projects/1/issues/1/notes").json:
        assert errors_of(openapi, "API_Entities_Note", note) == []


def test_the_validator_catches_what_it_should(gitlab: Raw, openapi: OpenApi) -> None:
    issue = gitlab.get("/api/v4/projects/1/issues/1").json
    schema = openapi.response_schema(ISSUE, "get", "200")
    assert errors_of(openapi, schema, {**issue, "id": "5001"})  # ids are integers
    assert errors_of(openapi, schema, {**issue, "updated_at": "2026-01-01 10:00:00"})
    assert errors_of(openapi, schema, {**issue, "labels": "a,b"})


SAMPLES = {
    "user.json": "/api/v4/user",
    "issue.json": "/api/v4/projects/1/issues/1",
    "personal_access_token.json": "/api/v4/personal_access_tokens/self",
    "label_created.json": None,
    "labels_list.json": "/api/v4/projects/1/labels?with_counts=true",
    "notes_list.json": "/api/v4/projects/1/issues/1/notes",
    "issues_list.json": "/api/v4/projects/1/issues?iids[]=1",
    "project.json": "/api/v4/projects/1",
}
# Project settings an emulated issue tracker does not model (CI, mirroring, merge
# requests, EE, admin-only, opt-in statistics and license); everything else must match.
PROJECT_SETTINGS = (
    "ci_",
    "mirror",
    "auto",
    "squash",
    "container_",
    "only_",
    "build_",
    "merge_",
    "allow_",
    "restrict_",
    "import_",
    "marked_for_deletion",
    "security_",
    "secret_",
    "service_desk_",
    "suggestion_",
    "printing_",
    "public_jobs",
    "runners_token",
    "repository_storage",
    "remove_source",
    "approvals_",
    "compliance_",
    "enforce_",
    "external_authorization",
    "issue_branch_",
    "keep_latest",
    "warn_about",
    "spp_",
    "statistics",
    "license",
    "owner",
    "packages_enabled",
)


def _shape(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "num", str: "str", list: "list", dict: "dict"}[
        type(value)
    ]


@pytest.mark.parametrize("sample", sorted(k for k, v in SAMPLES.items() if v))
def test_emulated_entities_have_the_samples_keys_and_types(
    gitlab: Raw, shared_dir: Path, sample: str
) -> None:
    expected = json.loads((shared_dir / "samples" / "gitlab" / sample).read_text())
    actual = gitlab.get(str(SAMPLES[sample])).json
    if isinstance(expected, list):
        expected, actual = expected[0], actual[0]
    missing = set(expected) - set(actual)
    if sample == "project.json":
        missing = {key for key in missing if not key.startswith(PROJECT_SETTINGS)}
    assert missing == set(), sorted(missing)
    for key in set(expected) & set(actual):
        kinds = {_shape(expected[key]), _shape(actual[key])} - {"null"}
        assert len(kinds) <= 1, (key, expected[key], actual[key])


def test_the_adapter_sends_only_declared_parameters(
    serve: Callable[[GitLabApp], str], app: GitLabApp, openapi: OpenApi
) -> None:
    seen: list[Request] = []
    dispatch = app.dispatch

    def record(request: Request) -> Response:
        seen.append(request)
        return dispatch(request)

    app.dispatch = record  # type: ignore[method-assign]
    url = serve(app)
    settings = ConnectionSettings(
        platform="gitlab", url=url, project="demo/web", labels=("testable",)
    )
    tracker = open_gitlab(settings, SANDBOX_TOKEN, policy=RetryPolicy(budget_s=1))
    tracker.whoami()
    tracker.list_projects()
    tracker.get_project("demo/web")
    since = datetime(2020, 1, 1, tzinfo=UTC)
    list(tracker.iter_requirements(updated_since=since))
    list(tracker.iter_requirement_ids())
    defect = tracker.create_issue(
        NewIssue("Broken", "Steps", DefectPriority.MINOR, DefectStatus.CLOSED, "tk-1")
    )
    tracker.set_priority(defect, DefectPriority.BLOCKER)
    tracker.set_status(defect, "opened")
    tracker.find_by_marker("tk-1")
    list(tracker.iter_defects(updated_since=since))
    tracker.close()
    checked = 0
    for request in seen:
        if request.path.startswith("/_sandbox/"):
            continue
        template = openapi.match(request.method, request.path)
        if template is None:
            continue  # notes and labels: not in the document (checked against api-notes)
        method = request.method.lower()
        sent = {k.removesuffix("[]") for k in request.query}
        assert sent - openapi.query_params(template, method) - UNDECLARED_BUT_DOCUMENTED == set(), (
            request.method,
            unquote(request.path),
        )
        if request.body:
            body = set(json.loads(request.body))
            assert body - openapi.body_params(template, method) == set(), request.path
        checked += 1
    assert checked >= 10
