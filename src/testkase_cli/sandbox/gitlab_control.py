"""The control API of the GitLab emulator (`/_sandbox/...`, no auth, never faulted).

Tests, benchmarks and `testkase demo` act "in the tracker" through it: bulk seed, list
every issue (deleted ones included), create/edit/delete/move issues and comment as
another user, move the clock, and turn the platform knobs (`utc_offset`,
`scoped_labels`, `token_expires_at`, `keyset`, `external_url`, `version`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from testkase_cli.sandbox.core import Request, Response, json_response
from testkase_cli.sandbox.gitlab_seed import ALICE_ID, bulk_seed
from testkase_cli.sandbox.gitlab_state import Issue, Project, parse_time, render_time

if TYPE_CHECKING:
    from testkase_cli.sandbox.gitlab import GitLabApp

PRIORITY_PREFIX = "priority::"
_PRIORITY_ALIASES = {
    "critical": "critical",
    "highest": "critical",
    "blocker": "critical",
    "p0": "critical",
    "high": "high",
    "p1": "high",
    "medium": "medium",
    "major": "medium",
    "p2": "medium",
    "low": "low",
    "lowest": "low",
    "minor": "low",
    "trivial": "low",
    "p3": "low",
}
_PRIORITY_RANK = ("critical", "high", "medium", "low")
_STATE_ALIASES = {
    "opened": "opened",
    "open": "opened",
    "reopened": "opened",
    "to do": "opened",
    "in progress": "opened",
    "closed": "closed",
    "close": "closed",
    "done": "closed",
}


def priority_value(labels: list[str]) -> str | None:
    values = sorted(
        (n[len(PRIORITY_PREFIX) :] for n in labels if n.startswith(PRIORITY_PREFIX)),
        key=lambda v: (_PRIORITY_RANK.index(v) if v in _PRIORITY_RANK else 99, v),
    )
    return values[0] if values else None


def register_control(app: GitLabApp) -> None:
    """Add the `/_sandbox/` routes to `app`."""
    state = app.state

    def shape(issue: Issue) -> dict[str, Any]:
        project = state.projects[issue.project_id]
        return {
            "id": str(issue.id),
            "key": f"{project.full_path}#{issue.iid}",
            "ref": f"{project.id}:{issue.iid}",
            "project": project.full_path,
            "title": issue.title,
            "description": issue.description,
            "status": issue.state,
            "priority": priority_value(issue.labels),
            "labels": sorted(issue.labels),
            "state": issue.state,
            "moved_to_id": None if issue.moved_to_id is None else str(issue.moved_to_id),
            "deleted": issue.deleted,
            "updated_at": render_time(issue.updated, state.config.tz()),
            "comments": [
                {"id": str(n.id), "body": n.body, "author": state.users[n.author_id].username}
                for n in issue.notes or ()
                if not n.system
            ],
        }

    def body_of(request: Request) -> dict[str, Any] | Response:
        try:
            data = request.json() or {}
        except ValueError:
            return json_response(400, {"error": "body is not JSON"})
        if not isinstance(data, dict):
            return json_response(400, {"error": "body must be a JSON object"})
        return data

    def issue_of(request: Request) -> Issue | Response:
        raw = request.params["id"]
        issue = state.issues.get(int(raw)) if raw.isdigit() else None
        if issue is None:
            return json_response(404, {"error": f"no issue {raw}"})
        return issue

    def issue_and_body(request: Request) -> tuple[Issue, dict[str, Any]] | Response:
        """The addressed issue and the JSON body; call it holding the lock."""
        data = body_of(request)
        if isinstance(data, Response):
            return data
        issue = issue_of(request)
        return issue if isinstance(issue, Response) else (issue, data)

    def project_of(ref: Any, default: int) -> Project | None:
        if ref is None:
            return state.projects[default]
        return state.project_by_ref(str(ref))

    def labels_with(labels: list[str], priority: Any) -> list[str] | Response:
        if priority is None:
            return labels
        value = _PRIORITY_ALIASES.get(str(priority).removeprefix(PRIORITY_PREFIX).casefold())
        if value is None:
            return json_response(400, {"error": f"unknown priority {priority!r}"})
        return [n for n in labels if not n.startswith(PRIORITY_PREFIX)] + [PRIORITY_PREFIX + value]

    def status_of(raw: Any) -> str | None:
        return _STATE_ALIASES.get(str(raw).casefold())

    @app.route("POST", r"/_sandbox/seed")
    def seed(request: Request) -> Response:
        data = body_of(request)
        if isinstance(data, Response):
            return data
        count, seed_value = int(data.get("count", 0)), int(data.get("seed", 1))
        labels = [str(n) for n in data.get("labels") or []]
        with app.lock:
            project = state.projects[1]
            created = bulk_seed(state, project, count=count, seed=seed_value, labels=labels)
            total = len(project.issue_ids)
        return json_response(201, {"created": created, "total": total})

    @app.route("GET", r"/_sandbox/issues")
    def list_issues(request: Request) -> Response:
        label = request.arg("label")
        with app.lock:
            issues = [i for i in state.issues.values() if label is None or label in i.labels]
            return json_response(200, [shape(i) for i in sorted(issues, key=lambda i: i.id)])

    @app.route("POST", r"/_sandbox/issues")
    def create_issue(request: Request) -> Response:
        data = body_of(request)
        if isinstance(data, Response):
            return data
        if not data.get("title"):
            return json_response(400, {"error": "title is missing"})
        with app.lock:
            project = project_of(data.get("project"), 1)
            if project is None:
                return json_response(404, {"error": f"no project {data.get('project')!r}"})
            labels = labels_with([str(n) for n in data.get("labels") or []], data.get("priority"))
            if isinstance(labels, Response):
                return labels
            status = status_of(data.get("status", "opened"))
            if status is None:
                return json_response(400, {"error": f"unknown status {data.get('status')!r}"})
            issue = state.create_issue(
                project,
                title=str(data["title"]),
                description=data.get("description"),
                labels=labels,
                author_id=ALICE_ID,
                state=status,
            )
            return json_response(201, shape(issue))

    @app.route("PATCH", r"/_sandbox/issues/(?P<id>[^/]+)")
    def edit_issue(request: Request) -> Response:
        with app.lock:
            found = issue_and_body(request)
            if isinstance(found, Response):
                return found
            issue, data = found
            base = [str(n) for n in data["labels"]] if "labels" in data else list(issue.labels)
            labels = labels_with(base, data.get("priority"))
            if isinstance(labels, Response):
                return labels
            status = status_of(data["status"]) if "status" in data else issue.state
            if status is None:
                return json_response(400, {"error": f"unknown status {data.get('status')!r}"})
            issue.title = str(data.get("title", issue.title))
            issue.description = data.get("description", issue.description)
            state.set_labels(issue, labels, ALICE_ID, added_order=labels)
            state.set_state(issue, status, ALICE_ID)
            issue.updated = state.clock.now()
            state.touch()
            return json_response(200, shape(issue))

    @app.route("DELETE", r"/_sandbox/issues/(?P<id>[^/]+)")
    def delete_issue(request: Request) -> Response:
        with app.lock:
            issue = issue_of(request)
            if isinstance(issue, Response):
                return issue
            state.delete_issue(issue)
        return Response(status=204)

    @app.route("POST", r"/_sandbox/issues/(?P<id>[^/]+)/move")
    def move_issue(request: Request) -> Response:
        with app.lock:
            found = issue_and_body(request)
            if isinstance(found, Response):
                return found
            issue, data = found
            target = project_of(data.get("project"), 2 if issue.project_id == 1 else 1)
            if target is None or target.id == issue.project_id:
                return json_response(400, {"error": f"cannot move to {data.get('project')!r}"})
            moved = state.move_issue(issue, target, ALICE_ID)
            return json_response(201, shape(moved))

    @app.route("POST", r"/_sandbox/issues/(?P<id>[^/]+)/comments")
    def comment(request: Request) -> Response:
        with app.lock:
            found = issue_and_body(request)
            if isinstance(found, Response):
                return found
            issue, data = found
            if not str(data.get("body", "")).strip():
                return json_response(400, {"error": "body is missing"})
            note = state.add_note(issue, str(data["body"]), ALICE_ID)
            author = state.users[ALICE_ID].username
            return json_response(201, {"id": str(note.id), "body": note.body, "author": author})

    @app.route("POST", r"/_sandbox/clock")
    def clock(request: Request) -> Response:
        data = body_of(request)
        if isinstance(data, Response):
            return data
        with app.lock:
            if "set" in data:
                when = parse_time(str(data["set"]))
                if when is None:
                    return json_response(400, {"error": f"invalid time {data['set']!r}"})
                state.clock.set(when)
            elif "advance_s" in data:
                state.clock.advance(float(data["advance_s"]))
            return json_response(200, {"now": render_time(state.clock.now(), state.config.tz())})

    @app.route("GET", r"/_sandbox/config")
    def show_config(request: Request) -> Response:
        with app.lock:
            return json_response(200, dict(state.config.__dict__))

    @app.route("POST", r"/_sandbox/config")
    def set_config(request: Request) -> Response:
        data = body_of(request)
        if isinstance(data, Response):
            return data
        with app.lock:
            try:
                state.config.update(data)
            except KeyError as exc:
                return json_response(400, {"error": f"unknown knob {exc.args[0]!r}"})
            except ValueError:
                return json_response(
                    400, {"error": f"invalid utc_offset {data.get('utc_offset')!r}"}
                )
            state.touch()
            return json_response(200, dict(state.config.__dict__))
