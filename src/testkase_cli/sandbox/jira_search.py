"""Search handlers of the Jira emulator: Server's offset `/search`, Cloud's enhanced
`/search/jql` (token paging, page caps, eventual consistency), approximate count, bulkfetch,
and the removed Cloud search APIs (410)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from testkase_cli.sandbox.core import Request, Response, json_response
from testkase_cli.sandbox.jira_api import (
    Ctx,
    Router,
    as_list,
    body_of,
    errors,
    list_arg,
    page_token,
    read_token,
    selection,
)
from testkase_cli.sandbox.jira_jql import parse

if TYPE_CHECKING:
    from testkase_cli.sandbox.jira import JiraApp

route = Router()
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
SERVER_MAX_RESULTS = 1000
# Data Center with OpenSearch refuses `startAt + maxResults` past its result window
# (jira.search.platform.max.result.window, default 10,000): api-notes, Server/DC search.
SEARCH_WINDOW = 10_000


@route("POST", "/issue/bulkfetch", only="cloud")
def bulkfetch(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    body = body_of(request)
    wanted = as_list(body.get("issueIdsOrKeys"))
    if not wanted:
        raise errors(400, "issueIdsOrKeys must not be empty.")
    if len(wanted) > 100:
        raise errors(400, "The number of issue ids or keys must be less than or equal to 100.")
    found = {i.id: i for w in wanted if (i := ctx.state.find(w)) is not None}
    sel = selection(as_list(body.get("fields")), "*navigable", ctx.state.flavor)
    rendered = ctx.r.issues((found[k] for k in sorted(found)), sel, as_list(body.get("properties")))
    return json_response(200, {"issues": rendered, "issueErrors": []})


def _search_params(request: Request) -> dict[str, Any]:
    if request.method == "POST":
        return body_of(request)
    params: dict[str, Any] = {k: v[0] for k, v in request.query.items() if v}
    for name in ("fields", "properties", "reconcileIssues", "expand"):
        if name in request.query:
            params[name] = list_arg(request, name)
    return params


def _int(params: dict[str, Any], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except (TypeError, ValueError) as exc:
        raise errors(400, f"The '{name}' parameter must be a number.") from exc


@route("GET", "/search", anonymous=True)
@route("POST", "/search", anonymous=True)
def search_offset(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    """Server's offset search; on Cloud this API is gone (410, CHANGE-2046)."""
    if ctx.cloud:
        raise errors(410, SEARCH_REMOVED)
    params = _search_params(request)
    jql = str(params.get("jql") or "")
    start = max(0, _int(params, "startAt", 0))
    size = min(SERVER_MAX_RESULTS, max(0, _int(params, "maxResults", 50)))
    if start + size > SEARCH_WINDOW:
        raise errors(
            500,
            f"Search limit exceeded. We couldn't complete your search because it requests "
            f"{start + size:,} results which exceeded the search platform limit of "
            f"{SEARCH_WINDOW:,}. Try refining your query or contact your Jira administrator.",
        )
    sel = selection(as_list(params.get("fields")), "*navigable", ctx.state.flavor)
    if ctx.user is None:
        ids: list[int] = []
    else:
        ids = ctx.state.listing(jql).ids
    issues = (ctx.state.issues[i] for i in ids[start : start + size])
    body = {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": size,
        "total": len(ids),
        "issues": ctx.r.issues(issues, sel, as_list(params.get("properties"))),
    }
    return json_response(200, body)


@route("POST", "/search/id", only="cloud")
def search_ids_removed(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    raise errors(410, SEARCH_REMOVED)


def _bounded_jql(params: dict[str, Any]) -> str:
    jql = str(params.get("jql") or "")
    if not jql.strip() or parse(jql).where is None:
        raise errors(400, UNBOUNDED)
    return jql


@route("GET", "/search/jql", only="cloud", anonymous=True)
@route("POST", "/search/jql", only="cloud", anonymous=True)
def search_jql(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    """Cloud's enhanced search: token paging, no total, eventually consistent."""
    params = _search_params(request)
    jql = _bounded_jql(params)
    sel = selection(as_list(params.get("fields")), "id", ctx.state.flavor)
    cap = 5000 if sel.ids_only else 100
    size = min(cap, max(1, _int(params, "maxResults", 50)))
    try:
        reconcile = frozenset(int(v) for v in as_list(params.get("reconcileIssues")))
    except ValueError as exc:
        raise errors(400, "reconcileIssues must be a list of issue ids.") from exc
    if len(reconcile) > 50:
        raise errors(400, "The number of issues to reconcile must not exceed 50.")
    if ctx.user is None:
        return json_response(200, {"issues": [], "isLast": True})
    listing = ctx.state.listing(jql, reconcile=reconcile)
    start = listing.start_after(read_token(params.get("nextPageToken"), jql))
    ids = listing.ids[start : start + size]
    rendered = ctx.r.issues(
        (ctx.state.issues[i] for i in ids), sel, as_list(params.get("properties"))
    )
    body: dict[str, Any] = {"issues": rendered, "isLast": start + len(ids) >= len(listing.ids)}
    if not body["isLast"]:
        body["nextPageToken"] = page_token(listing.keys[start + len(ids) - 1], jql)
    return json_response(200, body)


@route("POST", "/search/approximate-count", only="cloud")
def approximate_count(app: JiraApp, request: Request, ctx: Ctx) -> Response:
    jql = _bounded_jql(body_of(request))
    return json_response(200, {"count": len(ctx.state.listing(jql).ids)})
