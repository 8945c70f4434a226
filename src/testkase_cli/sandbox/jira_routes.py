"""REST handlers of the Jira emulator: instance, projects, metadata, issues, workflow,
comments, properties (`/rest/api/2` and, on Cloud, `/rest/api/3`). Searches: jira_search.py."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from testkase_cli.sandbox.core import Request, Response, json_response
from testkase_cli.sandbox.jira_api import (
    ApiError,
    Ctx,
    Router,
    body_of,
    errors,
    int_arg,
    list_arg,
    selection,
)
from testkase_cli.sandbox.jira_store import (
    STATUSES,
    TESTER,
    Issue,
    Project,
    adf_problem,
    issue_type_id,
    plain_text,
    text_to_adf,
)

if TYPE_CHECKING:
    from testkase_cli.sandbox.jira import JiraApp

route = Router()
KEY = r"(?P<key>[^/]+)"
NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
BUILD_MS = 1_735_689_600_000


# -- instance, user, projects, priorities -------------------------------------------


@route("GET", "/serverInfo", anonymous=True)
def server_info(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    cloud = ctx.cloud
    body = {
        "baseUrl": app.base_url,
        "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.15",
        "versionNumbers": [1001, 0, 0] if cloud else [9, 12, 15],
        "deploymentType": "Cloud" if cloud else "Server",
        "buildNumber": 100282 if cloud else 9120015,
        "buildDate": ctx.r.ts(BUILD_MS),
        "serverTime": ctx.r.ts(ctx.state.clock.now_ms()),
        "scmInfo": "6f0c0b8a6f35a9ee9a8c2d1d5e0b7a3c4d2e1f00",
        "serverTitle": "Jira",
        "defaultLocale": {"locale": "en_US"},
    }
    return json_response(200, body)


@route("GET", "/myself")
def myself(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    return json_response(200, ctx.r.myself(ctx.require_user()))


@route("GET", "/project")
def projects(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    return json_response(200, [ctx.r.project(p) for p in ctx.state.projects.values()])


@route("GET", "/project/search", only="cloud")
def project_search(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    start = max(0, int_arg(request, "startAt", 0))
    size = min(100, max(1, int_arg(request, "maxResults", 50)))
    keys = {k.upper() for k in list_arg(request, "keys")}
    query = (request.arg("query") or "").casefold()
    matching = [
        p
        for p in ctx.state.projects.values()
        if (not keys or p.key in keys) and (query in p.key.casefold() or query in p.name.casefold())
    ]
    page = matching[start : start + size]
    is_last = start + size >= len(matching)
    body: dict[str, Any] = {
        "self": f"{ctx.r.api}/project/search?startAt={start}&maxResults={size}",
        "maxResults": size,
        "startAt": start,
        "total": len(matching),
        "isLast": is_last,
        "values": [ctx.r.project(p) for p in page],
    }
    if not is_last:
        body["nextPage"] = f"{ctx.r.api}/project/search?startAt={start + size}&maxResults={size}"
    return json_response(200, body)


def _project(ctx: Ctx, key: str) -> Project:
    found = ctx.state.project_key(key)
    if found is None:
        raise errors(404, f"No project could be found with key '{key}'.")
    return ctx.state.projects[found]


@route("GET", f"/project/{KEY}")
def project_get(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    return json_response(200, ctx.r.project(_project(ctx, request.params["key"]), detail=True))


@route("GET", f"/project/{KEY}/statuses")
def project_statuses(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    _project(ctx, request.params["key"])
    body = [
        {
            "self": f"{ctx.r.api}/issuetype/{issue_type_id(index)}",
            "id": issue_type_id(index),
            "name": name,
            "subtask": name == "Sub-task",
            "statuses": [ctx.r.status(s) for s in STATUSES],
        }
        for index, name in enumerate(ctx.state.config.issue_types)
    ]
    return json_response(200, body)


@route("GET", "/priority")
def priorities(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    return json_response(200, [ctx.r.priority(n, detail=True) for n in ctx.state.priorities])


@route("GET", "/priority/search", only="cloud")
def priority_search(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    default = ctx.state.priority_name("3")
    values = [
        {**ctx.r.priority(n, detail=True), "isDefault": n == default} for n in ctx.state.priorities
    ]
    body = {
        "self": f"{ctx.r.api}/priority/search?startAt=0&maxResults=50",
        "maxResults": 50,
        "startAt": 0,
        "total": len(values),
        "isLast": True,
        "values": values,
    }
    return json_response(200, body)


# -- create metadata ----------------------------------------------------------------


def _meta_page(ctx: Ctx, request: Request, items: list[dict[str, Any]], name: str) -> Response:
    start = max(0, int_arg(request, "startAt", 0))
    size = int_arg(request, "maxResults", 50)
    if ctx.cloud and size > 200:
        body = {
            "errorMessages": ["Parameter 'maxResults' must not exceed the limit '200'"],
            "errors": {},
            "httpStatusCode": {"empty": False, "present": True},
        }
        raise ApiError(json_response(400, body))
    page = items[start : start + max(1, size)]
    meta = {"maxResults": max(1, size), "startAt": start, "total": len(items)}
    if ctx.cloud:
        return json_response(200, {name: page, **meta})
    return json_response(200, {**meta, "isLast": start + len(page) >= len(items), "values": page})


@route("GET", r"/issue/createmeta/(?P<project>[^/]+)/issuetypes")
def createmeta_types(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    _project(ctx, request.params["project"])
    types = [ctx.r.issuetype(n) for n in ctx.state.config.issue_types]
    return _meta_page(ctx, request, types, "issueTypes")


@route("GET", r"/issue/createmeta/(?P<project>[^/]+)/issuetypes/(?P<type>[^/]+)")
def createmeta_fields(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    project = _project(ctx, request.params["project"])
    type_name = next(
        (
            n
            for i, n in enumerate(ctx.state.config.issue_types)
            if issue_type_id(i) == request.params["type"]
        ),
        None,
    )
    if type_name is None:
        raise errors(404, f"Issue type with id '{request.params['type']}' does not exist.")
    return _meta_page(ctx, request, ctx.r.create_fields(project, type_name), "fields")


# -- issues -------------------------------------------------------------------------


def _rich_text(ctx: Ctx, value: Any) -> tuple[Any, str | None]:
    """(stored form, problem) of a description or comment body sent to this API version."""
    if value is None or value == "":
        return None, None
    if ctx.r.version == "3":
        problem = adf_problem(value)
        return (None, problem) if problem else (value, None)
    if not isinstance(value, str):
        return None, "Operation value must be a string"
    if not value.strip():
        return None, None
    return (text_to_adf(value) if ctx.cloud else value), None


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("key", "id", "name"):
            if value.get(key):
                return str(value[key])
    return None


def _summary_problem(summary: Any) -> str | None:
    if not isinstance(summary, str) or not summary.strip():
        return "You must specify a summary of the issue."
    if len(summary) > 255:
        return "Summary must be less than 255 characters."
    if "\n" in summary or "\r" in summary:
        return "The summary is invalid because it contains newline characters."
    return None


def _labels_problem(labels: Any) -> str | None:
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        return "The labels field must be a list of strings."
    for label in labels:
        if not label or any(c.isspace() for c in label):
            return f"The label '{label}' contains spaces which is invalid."
        if len(label) > 255:
            return "The label must not be longer than 255 characters."
    return None


def _priority(ctx: Ctx, value: Any) -> tuple[str | None, str | None]:
    name = ctx.state.priority_name(_ref(value) or "")
    if name is None:
        return None, "Specify the Priority (id or name) in the proper format"
    return name, None


@route("POST", "/issue")
def create_issue(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    body = body_of(request)
    fields = body.get("fields")
    if not isinstance(fields, dict):
        raise errors(400, "Can not deserialize the request body: 'fields' is missing.")
    state = ctx.state
    problems: dict[str, str] = {}
    project_key = state.project_key(_ref(fields.get("project")) or "")
    if project_key is None:
        problems["project"] = "valid project is required"
    type_name = state.issue_type(_ref(fields.get("issuetype")) or "")
    if type_name is None:
        problems["issuetype"] = "valid issue type is required"
    summary_problem = _summary_problem(fields.get("summary"))
    if summary_problem:
        problems["summary"] = summary_problem
    description, problem = _rich_text(ctx, fields.get("description"))
    if problem:
        problems["description"] = problem
    priority = None
    if "priority" in fields:
        priority, problem = _priority(ctx, fields["priority"])
        if problem:
            problems["priority"] = problem
    labels = fields.get("labels", [])
    problem = _labels_problem(labels)
    if problem:
        problems["labels"] = problem
    for field_id, name in state.config.required_fields.items():
        if not fields.get(field_id):
            problems[field_id] = f"{name} is required."
    known = {"project", "issuetype", "summary", "description", "priority", "labels", "reporter"}
    for name in fields:
        if name not in known and name not in state.config.required_fields:
            problems[name] = NOT_ON_SCREEN.format(name)
    properties = body.get("properties") or []
    if not isinstance(properties, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) and "value" in p for p in properties
    ):
        raise errors(400, "Issue properties must be a list of {key, value} objects.")
    if problems or project_key is None or type_name is None:
        raise errors(400, **problems)
    issue = state.create(
        summary=fields["summary"],
        project=project_key,
        description=description,
        priority=priority,
        labels=labels,
        issuetype=type_name,
    )
    if properties:
        issue.properties = {p["key"]: p["value"] for p in properties}
    return json_response(
        201, {"id": str(issue.id), "key": issue.key, "self": f"{ctx.r.api}/issue/{issue.id}"}
    )


@route("GET", f"/issue/{KEY}", anonymous=True)
def get_issue(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    sel = selection(list_arg(request, "fields"), "*all", ctx.state.flavor)
    rendered = ctx.r.issues([issue], sel, list_arg(request, "properties"))
    return json_response(200, rendered[0])


@route("PUT", f"/issue/{KEY}")
def edit_issue(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    body = body_of(request)
    fields = body.get("fields") or {}
    update = body.get("update") or {}
    problems: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        problem: str | None = None
        if name == "summary":
            problem = _summary_problem(value)
        elif name == "description":
            value, problem = _rich_text(ctx, value)
        elif name == "priority":
            value, problem = _priority(ctx, value)
        elif name == "labels":
            problem = _labels_problem(value)
        elif name not in ctx.state.config.required_fields:
            problem = NOT_ON_SCREEN.format(name)
        if problem:
            problems[name] = problem
        else:
            changes[name] = value
    labels = list(changes.get("labels", issue.labels))
    for operation in update.get("labels", []):
        if "set" in operation:
            labels = list(operation["set"])
        elif "add" in operation and operation["add"] not in labels:
            labels.append(operation["add"])
        elif "remove" in operation and operation["remove"] in labels:
            labels.remove(operation["remove"])
    problem = _labels_problem(labels)
    if problem:
        problems["labels"] = problem
    comments = []
    for operation in update.get("comment", []):
        stored, problem = _rich_text(ctx, (operation.get("add") or {}).get("body"))
        if problem or stored is None:
            problems["comment"] = problem or "Comment body can not be empty!"
        comments.append(stored)
    if problems:
        raise errors(400, **problems)
    issue.summary = changes.get("summary", issue.summary)
    issue.description = changes.get("description", issue.description)
    issue.priority = changes.get("priority", issue.priority)
    issue.labels = labels
    issue.touch(ctx.state.clock.now_ms())
    ctx.state.changed()
    for stored in comments:
        ctx.state.add_comment(issue, stored, TESTER.account_id)
    if request.arg("returnIssue") == "true":
        sel = selection([], "*all", ctx.state.flavor)
        return json_response(200, ctx.r.issues([issue], sel)[0])
    return Response(204)


@route("DELETE", f"/issue/{KEY}")
def delete_issue(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    ctx.state.delete(ctx.issue(request.params["key"]))
    return Response(204)


# -- transitions --------------------------------------------------------------------


@route("GET", f"/issue/{KEY}/transitions")
def get_transitions(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    with_fields = "transitions.fields" in (request.arg("expand") or "")
    wanted = request.arg("transitionId")
    transitions = [
        ctx.r.transition(t, fields=with_fields)
        for t in ctx.state.transitions_from(issue.status)
        if wanted is None or t.id == wanted
    ]
    return json_response(200, {"expand": "transitions", "transitions": transitions})


@route("POST", f"/issue/{KEY}/transitions")
def do_transition(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    body = body_of(request)
    ident = (body.get("transition") or {}).get("id")
    if ident is None:
        raise errors(400, "Missing 'transition' identifier")
    if not str(ident).isdigit():
        raise errors(400, "'transition' identifier must be an integer")
    transition = next(
        (t for t in ctx.state.transitions_from(issue.status) if t.id == str(ident)), None
    )
    if transition is None:
        raise errors(400, f"Transition id '{ident}' is not valid for this issue.")
    fields = body.get("fields") or {}
    resolution = None
    problems = {
        name: NOT_ON_SCREEN.format(name)
        for name in fields
        if name != "resolution" or not transition.needs_resolution
    }
    if transition.needs_resolution:
        resolution = _ref(fields.get("resolution"))
        if resolution is None:
            problems["resolution"] = "Resolution is required."
        elif resolution not in ctx.state.config.resolutions:
            problems["resolution"] = f"Resolution '{resolution}' does not exist."
    if problems:
        raise errors(400, **problems)
    ctx.state.set_status(issue, transition.to, resolution, ctx.state.clock.now_ms())
    return Response(204)


# -- comments -----------------------------------------------------------------------


@route("GET", f"/issue/{KEY}/comment")
def get_comments(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    start = max(0, int_arg(request, "startAt", 0))
    size = min(5000, max(1, int_arg(request, "maxResults", 100 if ctx.cloud else 50)))
    order = request.arg("orderBy") or "created"
    comments = sorted(issue.comments or [], key=lambda c: (c.created, c.id))
    if order.startswith("-"):
        comments.reverse()
    page = comments[start : start + size]
    body = {
        "startAt": start,
        "maxResults": size,
        "total": len(comments),
        "comments": [ctx.r.comment(issue, c) for c in page],
    }
    return json_response(200, body)


@route("POST", f"/issue/{KEY}/comment")
def add_comment(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    stored, problem = _rich_text(ctx, body_of(request).get("body"))
    if problem or not plain_text(stored).strip():
        raise errors(400, comment=problem or "Comment body can not be empty!")
    comment = ctx.state.add_comment(issue, stored, ctx.require_user().account_id)
    return json_response(201, ctx.r.comment(issue, comment))


# -- issue properties ---------------------------------------------------------------


@route("GET", f"/issue/{KEY}/properties")
def property_keys(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    keys = [
        {"self": f"{ctx.r.api}/issue/{issue.id}/properties/{k}", "key": k}
        for k in issue.properties or {}
    ]
    return json_response(200, {"keys": keys})


def _property(ctx: Ctx, issue: Issue, key: str) -> Any:
    stored = issue.properties or {}
    if key not in stored:
        raise errors(404, f"The property with key '{key}' does not exist.")
    return stored[key]


@route("GET", f"/issue/{KEY}/properties/(?P<prop>[^/]+)")
def get_property(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    key = request.params["prop"]
    return json_response(200, {"key": key, "value": _property(ctx, issue, key)})


@route("PUT", f"/issue/{KEY}/properties/(?P<prop>[^/]+)")
def set_property(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    key = request.params["prop"]
    if len(request.body) > 32768:
        raise errors(400, "The property value is too long: the maximum length is 32768.")
    if len(key) > 255:
        raise errors(400, "The property key is too long: the maximum length is 255.")
    try:
        value = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise errors(400, "The property value must be valid JSON.") from exc
    if issue.properties is None:
        issue.properties = {}
    created = key not in issue.properties
    issue.properties[key] = value
    return Response(201 if created else 200)


@route("DELETE", f"/issue/{KEY}/properties/(?P<prop>[^/]+)")
def delete_property(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    issue = ctx.issue(request.params["key"])
    _property(ctx, issue, request.params["prop"])
    assert issue.properties is not None
    del issue.properties[request.params["prop"]]
    return Response(204)
