"""The `/_sandbox/` control API of the Jira emulator: act "in the tracker" as another user.

Shared with the GitLab emulator in shape: seed, list/create/edit/delete/move issues, comment,
move the clock, configure. Descriptions and comments are plain text here; they are stored in
the flavour's native form. Config knobs: time_zone, search_lag_s, issue_types,
required_fields ({field id: name}), resolutions, deny (["METHOD path-regex"] answered 403).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from testkase_cli.sandbox.core import Request, Response, json_response
from testkase_cli.sandbox.jira_seed import bulk_seed
from testkase_cli.sandbox.jira_store import (
    DEFAULT_PROJECT,
    OTHER_PROJECT,
    OTHER_USER,
    STATUSES,
    USERS,
    Issue,
    JiraState,
    plain_text,
    text_to_adf,
)

if TYPE_CHECKING:
    from testkase_cli.sandbox.jira import JiraApp

MAX_SEED = 200_000


def _error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def issue_view(issue: Issue) -> dict[str, Any]:
    return {
        "id": str(issue.id),
        "key": issue.key,
        "ref": str(issue.id),
        "project": issue.project,
        "title": issue.summary,
        "description": plain_text(issue.description),
        "status": issue.status,
        "priority": issue.priority,
        "labels": list(issue.labels),
        "state": STATUSES[issue.status][1],
        "moved_to_id": None,
        "deleted": issue.deleted,
        "created": _iso(issue.created),
        "updated": _iso(issue.updated),
        "properties": dict(issue.properties or {}),
        "comments": [
            {"id": str(c.id), "body": plain_text(c.body), "author": USERS[c.author].display}
            for c in issue.comments or ()
        ],
    }


def _rich(state: JiraState, text: Any) -> Any:
    if not isinstance(text, str) or not text.strip():
        return None
    return text_to_adf(text) if state.flavor == "cloud" else text


def _apply(state: JiraState, issue: Issue, data: dict[str, Any]) -> str | None:
    """Apply a control edit; an error message when a value is not valid here."""
    if "status" in data and state.status_name(str(data["status"])) is None:
        return f"unknown status {data['status']!r}; statuses: {', '.join(STATUSES)}"
    if "priority" in data and state.priority_name(str(data["priority"])) is None:
        return f"unknown priority {data['priority']!r}; priorities: {', '.join(state.priorities)}"
    now = state.clock.now_ms()
    if "title" in data:
        issue.summary = str(data["title"])
    if "description" in data:
        issue.description = _rich(state, data["description"])
    if "labels" in data:
        issue.labels = [str(label) for label in data["labels"]]
    if "priority" in data:
        issue.priority = state.priority_name(str(data["priority"]))
    if "status" in data:
        status = state.status_name(str(data["status"]))
        assert status is not None
        state.set_status(issue, status, None, now)
    issue.touch(now)
    state.changed()
    return None


def register_control(app: JiraApp) -> None:
    """Add the control routes to `app`."""
    state = app.state

    def body(request: Request) -> dict[str, Any]:
        data = request.json() if request.body else {}
        return data if isinstance(data, dict) else {}

    def issue_of(request: Request) -> Issue | None:
        issue = state.issues.get(int(request.params["id"]))
        return issue if issue is not None and not issue.deleted else None

    @app.route("POST", r"/_sandbox/seed")
    def seed(request: Request) -> Response:
        data = body(request)
        count = int(data.get("count", 0))
        if not 0 <= count <= MAX_SEED:
            return _error(400, f"count must be between 0 and {MAX_SEED}")
        with app.lock:
            first = state.next_id
            bulk_seed(state, count, int(data.get("seed", 1)), list(data.get("labels") or []))
        return json_response(200, {"created": count, "first_id": str(first)})

    @app.route("GET", r"/_sandbox/issues")
    def list_issues(request: Request) -> Response:
        label = request.arg("label")
        with app.lock:
            rows = [
                issue_view(i) for i in state.issues.values() if label is None or label in i.labels
            ]
        return json_response(200, rows)

    @app.route("POST", r"/_sandbox/issues")
    def create_issue(request: Request) -> Response:
        data = body(request)
        project = str(data.get("project") or DEFAULT_PROJECT).upper()
        with app.lock:
            if project not in state.projects:
                return _error(400, f"unknown project {project!r}")
            issue = state.create(
                summary=str(data.get("title") or "Untitled"),
                project=project,
                labels=[str(label) for label in data.get("labels") or []],
                reporter=OTHER_USER.account_id,
            )
            problem = _apply(state, issue, {k: v for k, v in data.items() if k != "title"})
            if problem:
                state.delete(issue)
                return _error(400, problem)
            return json_response(201, issue_view(issue))

    @app.route("PATCH", r"/_sandbox/issues/(?P<id>\d+)")
    def edit_issue(request: Request) -> Response:
        with app.lock:
            issue = issue_of(request)
            if issue is None:
                return _error(404, "no such issue")
            problem = _apply(state, issue, body(request))
            if problem:
                return _error(400, problem)
            return json_response(200, issue_view(issue))

    @app.route("DELETE", r"/_sandbox/issues/(?P<id>\d+)")
    def delete_issue(request: Request) -> Response:
        with app.lock:
            issue = issue_of(request)
            if issue is None:
                return _error(404, "no such issue")
            state.delete(issue)
        return Response(204)

    @app.route("POST", r"/_sandbox/issues/(?P<id>\d+)/move")
    def move_issue(request: Request) -> Response:
        project = str(body(request).get("project") or OTHER_PROJECT).upper()
        with app.lock:
            issue = issue_of(request)
            if issue is None:
                return _error(404, "no such issue")
            if project not in state.projects or project == issue.project:
                return _error(400, f"cannot move {issue.key} to {project!r}")
            state.move(issue, project)
            return json_response(200, issue_view(issue))

    @app.route("POST", r"/_sandbox/issues/(?P<id>\d+)/comments")
    def comment(request: Request) -> Response:
        text = body(request).get("body")
        with app.lock:
            issue = issue_of(request)
            if issue is None:
                return _error(404, "no such issue")
            stored = _rich(state, text)
            if stored is None:
                return _error(400, "body must be a non-empty string")
            added = state.add_comment(issue, stored, OTHER_USER.account_id)
        return json_response(
            201, {"id": str(added.id), "body": str(text), "author": OTHER_USER.display}
        )

    @app.route("GET", r"/_sandbox/clock")
    @app.route("POST", r"/_sandbox/clock")
    def clock(request: Request) -> Response:
        data = body(request)
        with app.lock:
            if "advance_s" in data:
                state.clock.advance(float(data["advance_s"]))
            elif "set" in data:
                try:
                    when = datetime.fromisoformat(str(data["set"]).replace("Z", "+00:00"))
                except ValueError:
                    return _error(400, "set must be an ISO-8601 date-time")
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                state.clock.set(when)
            state.changed()
            return json_response(200, {"now": _iso(state.clock.now_ms())})

    @app.route("GET", r"/_sandbox/config")
    @app.route("POST", r"/_sandbox/config")
    def config(request: Request) -> Response:
        with app.lock:
            try:
                state.configure(body(request))
            except (ValueError, TypeError) as exc:
                return _error(400, str(exc))
            return json_response(200, asdict(state.config))
