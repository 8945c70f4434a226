"""Notes (comments), resource events and labels of the GitLab emulator.

Notes list newest first by default with system notes interleaved; a note whose body is
only quick actions answers 202 with `commands_changes` and creates nothing; a note
touches its issue's `updated_at` at most once a minute (api-notes sections 5-7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from testkase_cli.sandbox import gitlab_quick as quick
from testkase_cli.sandbox.core import Request, Response, json_response
from testkase_cli.sandbox.gitlab_paging import ISSUE, PROJECT, Params, bad_request, offset_page
from testkase_cli.sandbox.gitlab_state import DEVELOPER, GUEST

if TYPE_CHECKING:
    from testkase_cli.sandbox.gitlab import GitLabApp


CSS_COLORS = {
    "red": "#ff0000",
    "green": "#008000",
    "blue": "#0000ff",
    "orange": "#ffa500",
    "yellow": "#ffff00",
    "purple": "#800080",
    "black": "#000000",
    "white": "#ffffff",
    "gray": "#808080",
    "grey": "#808080",
    "teal": "#008080",
    "navy": "#000080",
}
NOTE_TOO_LONG = '400 Bad request - Note {:note=>["is too long (maximum is 1000000 characters)"]}'
NOTE_BLANK = '400 Bad request - Note {:note=>["can\'t be blank"]}'


def register_notes(app: GitLabApp) -> None:
    """Add the notes, resource events and labels routes to `app`."""

    @app.route("GET", rf"{ISSUE}/notes")
    def list_notes(request: Request) -> Response:
        params = Params(request)
        with app.lock:
            found = app.find_issue(request, missing="404 Issue Not Found")
            if isinstance(found, Response):
                return found
            _, issue = found
            errors: list[str] = []
            activity = params.get("activity_filter") or "all_notes"
            if activity not in ("all_notes", "only_comments", "only_activity"):
                errors.append("activity_filter does not have a valid value")
            order_by = params.get("order_by") or "created_at"
            if order_by not in ("created_at", "updated_at"):
                errors.append("order_by does not have a valid value")
            sort = params.get("sort") or "desc"
            if sort not in ("asc", "desc"):
                errors.append("sort does not have a valid value")
            if errors:
                return bad_request(errors)
            notes = [
                n
                for n in issue.notes or ()
                if activity == "all_notes" or n.system == (activity == "only_activity")
            ]
            if order_by == "updated_at":
                notes.sort(key=lambda n: (n.updated, n.id), reverse=sort == "desc")
            else:
                notes.sort(key=lambda n: n.id, reverse=sort == "desc")
            defaults = {
                "order_by": "created_at",
                "sort": "desc",
                "activity_filter": "all_notes",
                "page": "1",
                "per_page": "20",
            }
            spec = app.spec(
                request, defaults, id=request.params["pid"], noteable_id=request.params["iid"]
            )
            paged = offset_page(params, spec, len(notes), lambda s, c: notes[s : s + c])
            if isinstance(paged, Response):
                return paged
            renderer = app.renderer()
            return json_response(200, [renderer.note(n) for n in paged[0]], **paged[1])

    @app.route("POST", rf"{ISSUE}/notes")
    def create_note(request: Request) -> Response:
        params = Params(request)
        with app.lock:
            found = app.find_issue(request, missing="404 Issue Not Found", write=GUEST)
            if isinstance(found, Response):
                return found
            issue = found[1]
            body = params.get("body")
            if body is None:
                return bad_request(["body is missing"])
            if len(body) > 1_000_000:
                return json_response(400, {"message": NOTE_TOO_LONG})
            extracted = quick.extract(body)
            if not body.strip():
                return json_response(400, {"message": NOTE_BLANK})
            user = app.user_id(request) or 0
            effect = app.apply(issue, extracted.commands, user)
            if extracted.commands and not extracted.text.strip():
                return json_response(
                    202, {"commands_changes": effect.changes, "summary": effect.summary}
                )
            note = app.state.add_note(issue, extracted.text, user)
            note.commands_changes = effect.changes or None
            return json_response(201, app.renderer().note(note))

    def events_of(request: Request, *, states: bool) -> Response:
        params = Params(request)
        with app.lock:
            found = app.find_issue(request, missing="404 Issue Not Found")
            if isinstance(found, Response):
                return found
            project, issue = found
            events = [e for e in issue.events or () if (e.state is not None) == states]
            spec = app.spec(
                request,
                {"page": "1", "per_page": "20"},
                id=request.params["pid"],
                eventable_id=request.params["iid"],
            )
            paged = offset_page(params, spec, len(events), lambda s, c: events[s : s + c])
            if isinstance(paged, Response):
                return paged
            renderer = app.renderer()
            return json_response(200, [renderer.event(e, project) for e in paged[0]], **paged[1])

    @app.route("GET", rf"{ISSUE}/resource_state_events")
    def state_events(request: Request) -> Response:
        return events_of(request, states=True)

    @app.route("GET", rf"{ISSUE}/resource_label_events")
    def label_events(request: Request) -> Response:
        return events_of(request, states=False)

    @app.route("GET", rf"{PROJECT}/labels")
    def list_labels(request: Request) -> Response:
        params = Params(request)
        with app.lock:
            project = app.find_project(request)
            if isinstance(project, Response):
                return project
            search = (params.get("search") or "").casefold()
            labels = sorted(
                (lb for lb in project.labels.values() if search in lb.name.casefold()),
                key=lambda lb: lb.name.casefold(),
            )
            defaults = {
                "with_counts": "false",
                "include_ancestor_groups": "true",
                "page": "1",
                "per_page": "20",
            }
            spec = app.spec(request, defaults, id=request.params["pid"])
            paged = offset_page(params, spec, len(labels), lambda s, c: labels[s : s + c])
            if isinstance(paged, Response):
                return paged
            counts = params.get("with_counts") == "true"
            renderer = app.renderer()
            return json_response(
                200, [renderer.label(lb, counts=counts) for lb in paged[0]], **paged[1]
            )

    @app.route("POST", rf"{PROJECT}/labels")
    def create_label(request: Request) -> Response:
        params = Params(request)
        with app.lock:
            project = app.find_project(request, write=DEVELOPER)
            if isinstance(project, Response):
                return project
            name, color = params.get("name"), params.get("color")
            missing = [
                f"{n} is missing" for n, v in (("name", name), ("color", color)) if v is None
            ]
            if missing:
                return bad_request(missing)
            assert name is not None and color is not None
            hex_color = _color(color)
            if hex_color is None:
                return json_response(400, {"message": {"color": ["must be a valid color code"]}})
            if not name.strip():
                return json_response(400, {"message": {"title": ["can't be blank"]}})
            if name in project.labels:
                return json_response(409, {"message": "Label already exists"})
            label = app.state.add_label(project, name, hex_color, params.get("description"))
            return json_response(201, app.renderer().label(label, counts=True))


def _color(raw: str) -> str | None:
    value = raw.strip()
    if value.startswith("#") and len(value) in (4, 7):
        try:
            int(value[1:], 16)
        except ValueError:
            return None
        return value
    return CSS_COLORS.get(value.casefold())
