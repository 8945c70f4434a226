"""A GitLab REST v4 emulator (gitlab.com and self-managed CE) for `testkase sandbox`.

Routes, status codes, error bodies, headers, pagination and caps follow
shared/api-notes/gitlab.md. This module holds auth, projects and issues; notes, events
and labels are in gitlab_notes.py, the `/_sandbox/` control API in gitlab_control.py,
data in gitlab_state.py, entities in gitlab_render.py, quick actions in gitlab_quick.py.
Projects: 1 `demo/web`, 2 `demo/other` (same namespace), 3 `qa/archive` (another
namespace, maintainer), 4 `community/handbook` (public, not a member).
Tokens: `sandbox-token` (scope api, project owner), `readonly-token` (read_api),
`expired-token`, `revoked-token`; anything else is unknown.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from urllib.parse import unquote

from testkase_cli.sandbox import gitlab_quick as quick
from testkase_cli.sandbox.core import App, Request, Response, json_response
from testkase_cli.sandbox.gitlab_control import register_control
from testkase_cli.sandbox.gitlab_notes import register_notes
from testkase_cli.sandbox.gitlab_paging import (
    API,
    FORBIDDEN,
    ISSUE,
    PROJECT,
    PageSpec,
    Params,
    bad_request,
    decode_cursor,
    encode_cursor,
    int_param,
    keyset_headers,
    offset_page,
)
from testkase_cli.sandbox.gitlab_render import Renderer
from testkase_cli.sandbox.gitlab_seed import (
    EXPIRED_TOKEN,
    READONLY_TOKEN,
    REVOKED_TOKEN,
    SANDBOX_TOKEN,
    build_default,
)
from testkase_cli.sandbox.gitlab_state import (
    GUEST,
    ISSUE_TYPES,
    OWNER,
    REPORTER,
    GitLabState,
    Issue,
    IssueQuery,
    Project,
    parse_time,
)

__all__ = [
    "EXPIRED_TOKEN",
    "READONLY_TOKEN",
    "REVOKED_TOKEN",
    "SANDBOX_TOKEN",
    "GitLabApp",
    "create_app",
]


UPDATE_PARAMS = (
    "assignee_id, assignee_ids, confidential, created_at, description, discussion_locked, "
    "due_date, labels, add_labels, remove_labels, milestone_id, state_event, title, issue_type"
)
ORDERS = (
    "created_at",
    "updated_at",
    "priority",
    "due_date",
    "relative_position",
    "label_priority",
    "milestone_due",
    "popularity",
    "title",
)
KEYSET_ORDERS = ("created_at", "updated_at", "title", "due_date", "relative_position")
ISSUE_DEFAULTS = {
    "order_by": "created_at",
    "sort": "desc",
    "state": "all",
    "with_labels_details": "false",
    "page": "1",
    "per_page": "20",
}

NOT_FOUND_PROJECT = {"message": "404 Project Not Found"}
UNAUTHORIZED = {"message": "401 Unauthorized"}
INSUFFICIENT_SCOPE = {
    "error": "insufficient_scope",
    "error_description": (
        "The request requires higher privileges than provided by the access token."
    ),
    "scope": "api",
}
KEYSET_UNSUPPORTED = {"error": "Keyset pagination is not yet available for this type of request"}
EXPIRED = "Token is expired. You can either do re-authorization or token refresh."
REVOKED = "Token was revoked. You have to re-authorize from the user."


class GitLabApp(App):
    """The emulated instance: `state` behind `lock`, REST routes and control routes."""

    def __init__(self, *, seed: int = 1, latency_ms: int = 0) -> None:
        super().__init__(latency_ms=latency_ms)
        self.state = GitLabState()
        build_default(self.state, seed=seed)
        self._routes()
        register_notes(self)
        register_control(self)

    # -- plumbing ---------------------------------------------------------------------------

    def external_url(self) -> str:
        return (self.state.config.external_url or self.base_url).rstrip("/")

    def renderer(self) -> Renderer:
        return Renderer(self.state, self.external_url())

    def rate_limited(self, retry_after_s: int) -> Response:
        reset = int(time.time()) + retry_after_s
        return Response(
            status=429,
            raw=b"Retry later\n",
            content_type="text/plain",
            headers={
                "RateLimit-Name": "throttle_authenticated_api",
                "RateLimit-Limit": "2000",
                "RateLimit-Observed": "2001",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-ResetTime": formatdate(reset, usegmt=True),
                "Retry-After": str(retry_after_s),
            },
        )

    @staticmethod
    def _secret(request: Request) -> str | None:
        token = request.headers.get("private-token")
        if token is None:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                token = value.strip()
        if token is None:
            token = request.arg("private_token")
        return token

    def authenticate(self, request: Request) -> Response | None:
        secret = self._secret(request)
        if secret is None:
            anonymous_read = request.method in ("GET", "HEAD") and request.path.startswith(
                f"{API}/projects"
            )
            if anonymous_read and "job-token" not in request.headers:
                return None
            return json_response(401, UNAUTHORIZED)
        token = self.state.tokens.get(secret)
        if token is None:
            return json_response(401, UNAUTHORIZED)
        if token.expired or token.revoked:
            description = EXPIRED if token.expired else REVOKED
            return json_response(
                401,
                {"error": "invalid_token", "error_description": description},
                **{
                    "WWW-Authenticate": 'Bearer realm="Protected by OAuth 2.0", '
                    f'error="invalid_token", error_description="{description}"'
                },
            )
        if request.method not in ("GET", "HEAD") and "api" not in token.scopes:
            return json_response(403, INSUFFICIENT_SCOPE)
        return None

    def user_id(self, request: Request) -> int | None:
        secret = self._secret(request)
        token = self.state.tokens.get(secret) if secret else None
        return None if token is None else token.user_id

    def find_project(self, request: Request, *, write: int | None = None) -> Project | Response:
        """The route's project, 404 when invisible; 403 below access level `write`."""
        project = self.state.project_by_ref(unquote(request.params["pid"]))
        user = self.user_id(request)
        if project is None or (project.visibility != "public" and user not in project.members):
            return json_response(404, NOT_FOUND_PROJECT)
        if write is not None and not self.can_write(request, project, write):
            return json_response(403, FORBIDDEN)
        return project

    def can_write(self, request: Request, project: Project, level: int = REPORTER) -> bool:
        user = self.user_id(request)
        return user is not None and project.members.get(user, 0) >= level

    def find_issue(
        self, request: Request, *, missing: str = "404 Not found", write: int | None = None
    ) -> tuple[Project, Issue] | Response:
        found = self.find_project(request, write=write)
        if isinstance(found, Response):
            return found
        raw = request.params["iid"]
        if not raw.isdigit():
            return json_response(400, {"error": "issue_iid is invalid"})
        issue = self.state.issue_in(found, int(raw))
        if issue is None:
            return json_response(404, {"message": missing})
        return found, issue

    def spec(self, request: Request, defaults: dict[str, str], **route: str) -> PageSpec:
        return PageSpec(
            url=f"{self.external_url()}{request.path}",
            route={k: unquote(v) for k, v in route.items()},
            defaults=defaults,
        )

    # -- routes -----------------------------------------------------------------------------

    def _routes(self) -> None:
        route = self.route
        route("GET", rf"{API}/version")(self._version)
        route("GET", rf"{API}/metadata")(self._version)
        route("GET", rf"{API}/user")(self._user)
        route("GET", rf"{API}/personal_access_tokens/self")(self._token_self)
        route("GET", rf"{API}/projects")(self._projects)
        route("GET", PROJECT)(self._project)
        route("GET", rf"{PROJECT}/issues")(self._list_issues)
        route("POST", rf"{PROJECT}/issues")(self._create_issue)
        route("GET", ISSUE)(self._get_issue)
        route("PUT", ISSUE)(self._update_issue)
        route("DELETE", ISSUE)(self._delete_issue)
        route("POST", rf"{ISSUE}/move")(self._move_issue)
        route("GET", rf"{API}/issues/(?P<id>[^/]+)")(self._admin_issue)

    def _version(self, request: Request) -> Response:
        with self.lock:
            version = self.state.config.reported_version()
        return json_response(
            200,
            {
                "version": version,
                "revision": "6d5e3c4b2a1",
                "kas": {
                    "enabled": False,
                    "externalUrl": None,
                    "externalK8sProxyUrl": None,
                    "version": None,
                },
                "enterprise": False,
            },
        )

    def _user(self, request: Request) -> Response:
        with self.lock:
            user = self.state.users[self.user_id(request) or 0]
            return json_response(200, self.renderer().current_user(user))

    def _token_self(self, request: Request) -> Response:
        with self.lock:
            secret = self._secret(request) or ""
            return json_response(200, self.renderer().token(self.state.tokens[secret]))

    def _projects(self, request: Request) -> Response:
        params = Params(request)
        user = self.user_id(request)
        membership = params.get("membership") == "true"
        simple = params.get("simple") == "true"
        search = (params.get("search") or "").casefold()
        with self.lock:
            visible = [
                p
                for p in self.state.projects.values()
                if (p.visibility == "public" and not membership) or user in p.members
            ]
            if search:
                visible = [
                    p for p in visible if search in p.name.casefold() or search in p.path.casefold()
                ]
            descending = (params.get("sort") or "desc") == "desc"
            visible.sort(key=lambda p: p.id, reverse=descending)
            defaults = {
                "order_by": "created_at",
                "sort": "desc",
                "membership": "false",
                "simple": "false",
                "owned": "false",
                "starred": "false",
                "statistics": "false",
                "page": "1",
                "per_page": "20",
            }
            paged = offset_page(
                params,
                self.spec(request, defaults),
                len(visible),
                lambda start, count: visible[start : start + count],
            )
            if isinstance(paged, Response):
                return paged
            items, headers = paged
            renderer = self.renderer()
            body = [renderer.project(p, user, simple=simple) for p in items]
        return json_response(200, body, **headers)

    def _project(self, request: Request) -> Response:
        with self.lock:
            project = self.find_project(request)
            if isinstance(project, Response):
                return project
            return json_response(
                200, self.renderer().project(project, self.user_id(request), simple=False)
            )

    # -- issues -----------------------------------------------------------------------------

    def _issue_query(self, params: Params) -> IssueQuery | Response:
        errors: list[str] = []

        def choice(name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
            value = params.get(name)
            if value is None:
                return default
            if value not in allowed:
                errors.append(f"{name} does not have a valid value")
            return value

        def moment(name: str) -> int | None:
            raw = params.get(name)
            if raw is None:
                return None
            parsed = parse_time(raw)
            if parsed is None:
                errors.append(f"{name} is invalid")
            return parsed

        state = choice("state", ("opened", "closed", "all"), "all")
        order_by = choice("order_by", ORDERS, "created_at")
        choice("sort", ("asc", "desc"), "desc")
        issue_type = choice("issue_type", ISSUE_TYPES, None)
        iids: list[int] = []
        for raw in params.list("iids"):
            if raw.isdigit():
                iids.append(int(raw))
            else:
                errors.append("iids is invalid")
        search_in = tuple(params.list("in")) or ("title", "description")
        if any(part not in ("title", "description") for part in search_in):
            errors.append("in does not have a valid value")
        query = IssueQuery(
            state=state or "all",
            labels=tuple(params.list("labels")),
            not_labels=tuple(params.list("not[labels]")),
            iids=tuple(iids),
            search=params.get("search") or None,
            search_in=search_in,
            issue_type=issue_type,
            updated_after=moment("updated_after"),
            updated_before=moment("updated_before"),
            created_after=moment("created_after"),
            created_before=moment("created_before"),
            order_by=order_by if order_by in ("updated_at", "title") else "created_at",
        )
        return bad_request(errors) if errors else query

    def _list_issues(self, request: Request) -> Response:
        params = Params(request)
        with self.lock:
            project = self.find_project(request)
            if isinstance(project, Response):
                return project
            query = self._issue_query(params)
            if isinstance(query, Response):
                return query
            listing = self.state.list_issues(project, query)
            descending = (params.get("sort") or "desc") == "desc"
            spec = self.spec(request, ISSUE_DEFAULTS, id=request.params["pid"])
            spec.keyset_capable = self.state.config.keyset
            if self.state.config.keyset and params.get("pagination") == "keyset":
                order = params.get("order_by") or "created_at"
                if order not in KEYSET_ORDERS:
                    return json_response(405, KEYSET_UNSUPPORTED)
                errors: list[str] = []
                per_page = min(max(int_param(params, "per_page", 20, errors), 1), 100)
                if errors:
                    return bad_request(errors)
                field = query.order_by
                cursor = params.get("cursor")
                if cursor:
                    position = decode_cursor(cursor, field)
                    if position is None:
                        return bad_request(["cursor is invalid"])
                    items = listing.after(position, per_page + 1, descending=descending)
                else:
                    items = listing.window(0, per_page + 1, descending=descending)
                next_cursor = None
                if len(items) > per_page:
                    items = items[:per_page]
                    last = items[-1]
                    key = (
                        last.updated
                        if field == "updated_at"
                        else last.title
                        if field == "title"
                        else last.created
                    )
                    next_cursor = encode_cursor(field, key, last.id)
                headers = keyset_headers(params, spec, next_cursor)
            else:
                paged = offset_page(
                    params,
                    spec,
                    len(listing.issues),
                    lambda start, count: listing.window(start, count, descending=descending),
                )
                if isinstance(paged, Response):
                    return paged
                items, headers = list(paged[0]), paged[1]
            renderer = self.renderer()
            body = [renderer.issue(issue, single=False) for issue in items]
        return json_response(200, body, **headers)

    def _get_issue(self, request: Request) -> Response:
        with self.lock:
            found = self.find_issue(request)
            if isinstance(found, Response):
                return found
            return json_response(200, self.renderer().issue(found[1], single=True))

    def _admin_issue(self, request: Request) -> Response:
        return json_response(403, FORBIDDEN)

    def _create_issue(self, request: Request) -> Response:
        params = Params(request)
        with self.lock:
            project = self.find_project(request, write=GUEST)
            if isinstance(project, Response):
                return project
            title = params.get("title")
            if title is None:
                return bad_request(["title is missing"])
            issue_type = params.get("issue_type") or "issue"
            if issue_type not in ISSUE_TYPES:
                return bad_request(["issue_type does not have a valid value"])
            invalid = _validate_text(title, params.get("description"))
            if invalid is not None:
                return invalid
            description = params.get("description")
            commands = quick.extract(description or "")
            user = self.user_id(request) or 0
            issue = self.state.create_issue(
                project,
                title=title,
                description=commands.text if description is not None else None,
                labels=params.list("labels"),
                author_id=user,
                issue_type=issue_type,
            )
            self.apply(issue, commands.commands, user)
            return json_response(201, self.renderer().issue(issue, single=True))

    def _update_issue(self, request: Request) -> Response:
        params = Params(request)
        with self.lock:
            found = self.find_issue(request, write=REPORTER)
            if isinstance(found, Response):
                return found
            issue = found[1]
            accepted = [name.strip() for name in UPDATE_PARAMS.split(",")]
            if not any(params.has(name) for name in accepted):
                return bad_request(
                    [f"{UPDATE_PARAMS} are missing, at least one parameter must be provided"]
                )
            state_event = params.get("state_event")
            if state_event is not None and state_event not in ("close", "reopen"):
                return bad_request(["state_event does not have a valid value"])
            invalid = _validate_text(params.get("title"), params.get("description"))
            if invalid is not None:
                return invalid
            user = self.user_id(request) or 0
            now = self.state.clock.now()
            title = params.get("title")
            if title is not None and title != issue.title:
                issue.title, issue.updated = title, now
            commands: list[tuple[str, str]] = []
            if params.has("description"):
                extracted = quick.extract(params.get("description") or "")
                commands = extracted.commands
                if extracted.text != (issue.description or ""):
                    issue.description, issue.updated = extracted.text, now
            if any(params.has(n) for n in ("labels", "add_labels", "remove_labels")):
                base = params.list("labels") if params.has("labels") else list(issue.labels)
                add, remove = params.list("add_labels"), set(params.list("remove_labels"))
                wanted = [n for n in [*base, *add] if n not in remove]
                order = [*add, *(params.list("labels") if params.has("labels") else [])]
                self.state.set_labels(issue, wanted, user, added_order=order)
            if state_event is not None:
                self.state.set_state(issue, "closed" if state_event == "close" else "opened", user)
            self.apply(issue, commands, user)
            self.state.touch()
            return json_response(200, self.renderer().issue(issue, single=True))

    def _delete_issue(self, request: Request) -> Response:
        with self.lock:
            found = self.find_issue(request, write=OWNER)
            if isinstance(found, Response):
                return found
            self.state.delete_issue(found[1])
            return Response(status=204)

    def _move_issue(self, request: Request) -> Response:
        params = Params(request)
        with self.lock:
            found = self.find_issue(request, missing="404 Issue Not Found")
            if isinstance(found, Response):
                return found
            project, issue = found
            raw = params.get("to_project_id")
            if raw is None:
                return bad_request(["to_project_id is missing"])
            target = self.state.project_by_ref(unquote(raw))
            user = self.user_id(request)
            if target is None or (target.visibility != "public" and user not in target.members):
                return json_response(404, NOT_FOUND_PROJECT)
            if target.id == project.id:
                return json_response(
                    400, {"message": "Cannot move issue to project it originates from!"}
                )
            if not (self.can_write(request, project) and self.can_write(request, target)):
                return json_response(
                    400, {"message": "Cannot move issue due to insufficient permissions!"}
                )
            if issue.moved_to_id is not None:
                return json_response(400, {"message": "Cannot move issue which was already moved"})
            moved = self.state.move_issue(issue, target, user or 0)
            return json_response(201, self.renderer().issue(moved, single=True))

    def apply(self, issue: Issue, commands: list[tuple[str, str]], user: int) -> quick.Effect:
        """Run quick actions against `issue`; returns what they did."""
        project = self.state.projects[issue.project_id]
        existing = {name: label.id for name, label in project.labels.items()}
        effect = quick.plan(commands, existing, list(issue.labels))
        if effect.title is not None and effect.title != issue.title:
            issue.title, issue.updated = effect.title, self.state.clock.now()
        if effect.replace is not None or effect.add or effect.remove:
            base = effect.replace if effect.replace is not None else list(issue.labels)
            wanted = [n for n in [*base, *effect.add] if n not in effect.remove]
            self.state.set_labels(issue, wanted, user, added_order=effect.add)
        if effect.state is not None:
            self.state.set_state(issue, effect.state, user)
        return effect

    # -- notes, events, labels ----------------------------------------------------------------


def _validate_text(title: str | None, description: str | None) -> Response | None:
    errors: dict[str, list[str]] = {}
    if title is not None and not title.strip():
        errors["title"] = ["can't be blank"]
    elif title is not None and len(title) > 255:
        errors["title"] = ["is too long (maximum is 255 characters)"]
    if description is not None and len(description) > 1_048_576:
        errors["description"] = ["is too long (maximum is 1048576 characters)"]
    return json_response(400, {"message": errors}) if errors else None


def create_app(*, seed: int = 1, latency_ms: int = 0) -> GitLabApp:
    """The emulator with its default dataset; `seed` makes the data deterministic."""
    return GitLabApp(seed=seed, latency_ms=latency_ms)
