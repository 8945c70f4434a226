"""JiraTracker: `ports.Tracker` for Jira Cloud (REST v3, ADF) and Server/DC (REST v2, wiki).

Endpoints per operation, and why:
- whoami: `GET /myself` (also gives `timeZone`, the zone JQL dates are read in).
- projects: Cloud `GET /project/search` (paginated; `/project` is deprecated), Server
  `GET /project` (a plain array); `GET /project/{key}` for one.
- issue types, required fields, priorities: `GET /issue/createmeta/{project}/issuetypes[/{id}]`
  (the global createmeta is gone); the `priority` field's `allowedValues` is this project's
  priority scheme; when it is not on the create screen, every priority (Cloud
  `GET /priority/search`, Server `GET /priority`).
- listings: see listing.py (enhanced search + bulkfetch on Cloud, offset search on Server).
- issue read: `GET /issue/{id}` (ids survive moves; old keys resolve but ids are identity).
- create: `POST /issue` with the label, the marker line and the `testkase` issue property.
- find_by_marker: search on label + `text ~ "marker"`, verified by property/description; on
  Cloud, after a miss, `bulkfetch` of the keys after the newest indexed one (GET-consistent).
- comments: `GET|POST /issue/{id}/comment`; transitions: `GET|POST /issue/{id}/transitions`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from testkase_cli.domain.models import (
    Account,
    ConnectionSettings,
    DefectPriority,
    NewIssue,
    RemoteComment,
    RemoteIssue,
    RemoteProject,
)
from testkase_cli.errors import (
    AuthError,
    KaseError,
    NotFoundError,
    RejectedError,
    UnreachableError,
    UsageError,
)
from testkase_cli.ports import DEFECT_LABEL
from testkase_cli.trackers.http import Funnel, RetryPolicy, describe_status
from testkase_cli.trackers.jira.errors import (
    CLOUD_BEARER_HINT,
    Translator,
    error_fields,
    project_missing,
)
from testkase_cli.trackers.jira.listing import CloudSearch, ServerSearch
from testkase_cli.trackers.jira.mapper import (
    ISSUE_FIELDS,
    MARKER_PROPERTY,
    AdfCodec,
    Codec,
    WikiCodec,
    closest_levels,
    comment_from_json,
    issue_from_json,
    parse_time,
    property_marker,
)
from testkase_cli.trackers.jira.metadata import CreateMeta, ProjectMeta
from testkase_cli.trackers.jira.workflow import Step, Walker, steps_from_json

RECENT_KEYS = 100  # keys per bulkfetch (its limit)
PROBE_BATCHES = 10
FILLED_ON_CREATE = frozenset(
    {"project", "issuetype", "summary", "description", "labels", "priority", "reporter"}
)


def quote_jql(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def strip_order_by(jql: str) -> str:
    return re.sub(r"\s+order\s+by\s+[^\"']*$", "", jql.strip(), flags=re.IGNORECASE)


class JiraTracker:
    """One Jira connection; thread-safe for the parallel listings it runs itself."""

    platform = "jira"

    def __init__(
        self,
        settings: ConnectionSettings,
        token: str,
        *,
        deployment: str,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.deployment = deployment
        self.cloud = deployment == "cloud"
        self.site = settings.url.rstrip("/")
        if self.cloud:
            if not settings.email:
                raise UsageError(
                    "Jira Cloud needs the account e-mail with the API token",
                    hint="run `testkase connect jira --url URL --email you@example.com`",
                )
            basic = base64.b64encode(f"{settings.email}:{token}".encode()).decode()
            auth = f"Basic {basic}"
            self.api = "/rest/api/3"
            self.codec: Codec = AdfCodec()
        else:
            auth = f"Bearer {token}"
            self.api = "/rest/api/2"
            self.codec = WikiCodec()
        self._translate = Translator(deployment)
        self.http = Funnel(
            self.site,
            headers={"Authorization": auth},
            secret=token,
            translate=self._translate,
            policy=policy,
        )
        self.search = (
            CloudSearch(self.http, self.api) if self.cloud else ServerSearch(self.http, self.api)
        )
        self.meta = ProjectMeta(self.http, self.api, settings)
        self._account: Account | None = None
        self._priorities: dict[DefectPriority, str] | None = None
        self._workflow: dict[str, list[Step]] = {}

    # -- port basics -------------------------------------------------------------------

    @property
    def requests(self) -> int:
        return self.http.counters.requests

    @property
    def list_requests(self) -> int:
        return self.http.counters.lists

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, **params: Any) -> Any:
        return self.http.request("GET", f"{self.api}{path}", params=params or None).json()

    @property
    def project(self) -> str:
        return self.meta.project

    def whoami(self) -> Account:
        response = self.http.request("GET", f"{self.api}/myself", ok=(200, 401))
        if response.status_code == 401:
            if not self.cloud and detect_deployment(self.site, policy=self.http.policy) == "cloud":
                raise AuthError(
                    "Jira Cloud refused the token sent as a personal access token (401)",
                    hint=CLOUD_BEARER_HINT,
                )
            raise self._translate(response)
        data = response.json()
        self._account = Account(
            id=str(data.get("accountId") or data.get("key") or data.get("name") or ""),
            name=str(data.get("displayName") or data.get("name") or ""),
            email=data.get("emailAddress"),
            time_zone=data.get("timeZone"),
        )
        return self._account

    def list_projects(self) -> list[RemoteProject]:
        if not self.cloud:
            return [_project(p) for p in self._get("/project")]
        projects: list[RemoteProject] = []
        start = 0
        while True:
            page = self._get("/project/search", startAt=start, maxResults=100)
            values = page.get("values", [])
            projects.extend(_project(p) for p in values)
            start += len(values)
            if page.get("isLast", True) or not values:
                return projects

    def get_project(self, key: str) -> RemoteProject:
        response = self.http.request("GET", f"{self.api}/project/{key}", ok=(200, 404))
        if response.status_code == 404:
            raise project_missing(key)
        return _project(response.json())

    def list_issue_types(self, project: str) -> list[str]:
        return [t["name"] for t in self.meta.issue_types(project) if not t.get("subtask")]

    def priority_mapping(self) -> dict[DefectPriority, str]:
        if self._priorities is None:
            self._priorities = closest_levels(self.meta.priority_names())
        return dict(self._priorities)

    # -- listings -------------------------------------------------------------------------

    def _since(self, updated_since: datetime | None) -> str | None:
        """The cursor as a JQL literal: the user's zone, floored to the minute."""
        if updated_since is None:
            return None
        account = self._account or self.whoami()
        moment = updated_since.astimezone(UTC)
        try:
            local = moment.astimezone(ZoneInfo(account.time_zone or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            local = moment - timedelta(hours=14)  # unknown zone: widen to the earliest offset
        return local.strftime("%Y-%m-%d %H:%M")

    def _requirement_jql(self) -> str:
        parts = [f"project = {quote_jql(self.project)}"]
        if self.settings.jql and strip_order_by(self.settings.jql):
            parts.append(f"({strip_order_by(self.settings.jql)})")
        parts.append(f"(labels IS EMPTY OR labels NOT IN ({DEFECT_LABEL}))")
        return " AND ".join(parts)

    def _defect_jql(self) -> str:
        return f"project = {quote_jql(self.project)} AND labels = {DEFECT_LABEL}"

    def _updated_since(self, raw: str) -> str:
        """A JQL clause for issues updated at or after Jira's timestamp `raw`."""
        return f'updated >= "{self._since(parse_time(raw))}"'

    def _listed(self, jql: str, updated_since: datetime | None) -> Iterator[RemoteIssue]:
        since = self._since(updated_since)
        if since is not None:
            jql += f' AND updated >= "{since}"'
        listing = self.search.changed(jql, ISSUE_FIELDS, self._updated_since)
        # An issue read again is passed on only when it changed in between (newer).
        seen: dict[str, object] = {}
        for data in self._guarded(listing):
            fields = data.get("fields")
            version = fields.get("updated") if isinstance(fields, dict) else None
            if data["id"] not in seen or seen[data["id"]] != version:
                seen[data["id"]] = version
                yield issue_from_json(data, codec=self.codec, site=self.site)

    def _search(
        self, jql: str, fields: tuple[str, ...], properties: tuple[str, ...] = ()
    ) -> Iterator[dict[str, Any]]:
        return self._guarded(self.search.issues(jql, fields, properties))

    def _guarded(self, listing: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        try:
            yield from listing
        except RejectedError as exc:
            raise self._jql_error(exc) from exc

    def _jql_error(self, exc: RejectedError) -> Exception:
        if "does not exist for the field 'project'" in exc.message:
            return project_missing(self.project)
        return UsageError(
            f"Jira refused the search: {exc.message}",
            hint="check `jql` in [connection] of the config",
        )

    def iter_requirements(self, *, updated_since: datetime | None) -> Iterator[RemoteIssue]:
        return self._listed(self._requirement_jql(), updated_since)

    def iter_defects(self, *, updated_since: datetime | None) -> Iterator[RemoteIssue]:
        return self._listed(self._defect_jql(), updated_since)

    def iter_requirement_ids(self) -> Iterator[str]:
        seen: set[str] = set()
        try:
            for ref in self.search.ids(self._requirement_jql()):
                if ref not in seen:
                    seen.add(ref)
                    yield ref
        except RejectedError as exc:
            raise self._jql_error(exc) from exc

    # -- issues ---------------------------------------------------------------------------

    def _issue_json(self, ref: str) -> dict[str, Any] | None:
        response = self.http.request(
            "GET",
            f"{self.api}/issue/{ref}",
            params={"fields": ",".join(ISSUE_FIELDS), "properties": MARKER_PROPERTY},
            ok=(200, 404),
        )
        if response.status_code == 404:
            return None
        data: dict[str, Any] = response.json()
        return data

    def get_issue(self, ref: str) -> RemoteIssue | None:
        data = self._issue_json(ref)
        return None if data is None else issue_from_json(data, codec=self.codec, site=self.site)

    def follow_move(self, issue: RemoteIssue) -> RemoteIssue | None:
        """Jira keeps the id across moves: the issue is simply read again (new key)."""
        return self.get_issue(issue.ref)

    def create_issue(self, new: NewIssue) -> RemoteIssue:
        meta = self.meta.create_meta()
        fields: dict[str, Any] = {
            "project": {"key": self.project},
            "issuetype": {"id": meta.type_id},
            "summary": re.sub(r"[\r\n]+", " ", new.title).strip()[:255],
            "description": self.codec.from_markdown(new.description, new.marker),
            "labels": [DEFECT_LABEL],
        }
        if "priority" in meta.fields:
            fields["priority"] = {"name": self.priority_mapping()[new.priority]}
        missing = [
            f"{meta_field.get('name', key)} ({key})"
            for key, meta_field in meta.fields.items()
            if meta_field.get("required")
            and not meta_field.get("hasDefaultValue")
            and key not in FILLED_ON_CREATE
        ]
        if missing:
            raise RejectedError(
                f"Jira requires fields testkase does not fill on a {meta.type_name}: "
                + ", ".join(missing),
                hint="make them optional or give them a default for this issue type, or pick "
                "another type with `testkase connect jira --issue-type NAME`",
                code="required_fields",
            )
        body = {
            "fields": fields,
            "properties": [{"key": MARKER_PROPERTY, "value": {"marker": new.marker}}],
        }
        response = self.http.request("POST", f"{self.api}/issue", json=body, ok=(201, 400))
        if response.status_code == 400:
            raise self._create_rejected(response, meta)
        created = self.get_issue(str(response.json()["id"]))
        if created is None:
            raise NotFoundError(f"Jira created issue {response.json().get('key')} but it is gone")
        return created

    def _create_rejected(self, response: httpx.Response, meta: CreateMeta) -> Exception:
        problems = error_fields(response)
        if "project" in problems:
            return project_missing(self.project)
        if "issuetype" in problems:
            names = ", ".join(self.list_issue_types(self.project))
            return NotFoundError(
                f"issue type {meta.type_name!r} is not enabled in Jira project {self.project}",
                hint=f"types available: {names}; run `testkase connect jira --issue-type NAME`",
            )
        named = "; ".join(
            f"{meta.fields.get(k, {}).get('name', k)} ({k}): {v}" for k, v in problems.items()
        )
        return RejectedError(
            f"Jira refused to create the issue: {named or describe_status(response)}",
            hint="required fields and values come from the project's create screen",
            code="required_fields" if problems else "rejected",
        )

    def find_by_marker(self, marker: str) -> RemoteIssue | None:
        """Search label + text, verify the marker; on Cloud also read unindexed new keys.

        Finds the issue when the search index has it or, on Cloud, when it still carries
        the label and is among the `RECENT_KEYS * PROBE_BATCHES` keys after the highest one
        the index shows in the project (issue keys are handed out in order; `bulkfetch` is
        a consistent read). Misses an issue whose marker line and property were both
        removed, one that lost the label, a deleted one, and one created after more than
        that many others while the index lagged.
        """
        phrase = quote_jql(f'"{marker}"')
        jql = f"{self._defect_jql()} AND text ~ {phrase}"
        for data in self._search(jql, ISSUE_FIELDS, (MARKER_PROPERTY,)):
            issue = self._carrying(data, marker)
            if issue is not None:
                return issue
        if not isinstance(self.search, CloudSearch):
            return None  # Server/DC search reads its own node's index: consistent enough
        return self._find_unindexed(self.search, marker)

    def _find_unindexed(self, search: CloudSearch, marker: str) -> RemoteIssue | None:
        jql = f"project = {quote_jql(self.project)} ORDER BY key DESC"
        highest = search.page(jql, ["key"], size=1).get("issues", [])
        start = int(str(highest[0]["key"]).rsplit("-", 1)[1]) + 1 if highest else 1
        for batch in range(PROBE_BATCHES):
            first = start + batch * RECENT_KEYS
            keys = [f"{self.project}-{n}" for n in range(first, first + RECENT_KEYS)]
            found = search.bulkfetch(keys, ISSUE_FIELDS, (MARKER_PROPERTY,))
            for data in found:
                issue = self._carrying(data, marker)
                if issue is not None and DEFECT_LABEL in issue.labels:
                    return issue
            if not found:
                return None  # past the newest issue of the project
        return None

    def _carrying(self, data: dict[str, Any], marker: str) -> RemoteIssue | None:
        """The issue when its description line or its property holds `marker`."""
        issue = issue_from_json(data, codec=self.codec, site=self.site)
        return issue if marker in (issue.marker, property_marker(data)) else None

    def set_priority(self, issue: RemoteIssue, priority: DefectPriority) -> None:
        body = {"fields": {"priority": {"name": self.priority_mapping()[priority]}}}
        self.http.request("PUT", f"{self.api}/issue/{issue.ref}", json=body)

    # -- comments -------------------------------------------------------------------------

    def list_comments(self, issue: RemoteIssue) -> list[RemoteComment]:
        comments: list[RemoteComment] = []
        while True:
            page = self._get(
                f"/issue/{issue.ref}/comment",
                startAt=len(comments),
                maxResults=100,
                orderBy="created",
            )
            batch = page.get("comments", [])
            comments.extend(comment_from_json(c, codec=self.codec) for c in batch)
            if not batch or len(comments) >= int(page.get("total", 0)):
                return comments

    def add_comment(self, issue: RemoteIssue, body: str, *, marker: str) -> RemoteComment:
        payload = {"body": self.codec.from_markdown(body, marker)}
        response = self.http.request(
            "POST", f"{self.api}/issue/{issue.ref}/comment", json=payload, ok=(201,)
        )
        return comment_from_json(response.json(), codec=self.codec)

    # -- workflow -------------------------------------------------------------------------

    def set_status(self, issue: RemoteIssue, target: str) -> None:
        current = self._get(f"/issue/{issue.ref}", fields="status")["fields"]["status"]["name"]
        if str(current).casefold() == target.casefold():
            return
        categories = self.meta.status_categories()
        if categories and target.casefold() not in {k.casefold() for k in categories}:
            raise RejectedError(
                f"Jira project {self.project} has no status {target!r}",
                hint="statuses: " + ", ".join(categories) + "; adjust [mapping.defect_status]",
                code="workflow",
            )

        def transitions() -> list[Step]:
            data = self._get(f"/issue/{issue.ref}/transitions", expand="transitions.fields")
            return steps_from_json(data)

        def apply(step: Step) -> None:
            self._transition(issue.ref, step)

        Walker(self._workflow, transitions, apply, categories).walk(str(current), target)

    def _transition(self, ref: str, step: Step) -> None:
        fields: dict[str, Any] = {}
        unfillable: list[str] = []
        for key, meta in step.required.items():
            allowed = [str(v.get("name")) for v in meta.get("allowedValues") or []]
            if key == "resolution" and any(a.casefold() == "done" for a in allowed):
                fields[key] = {"name": next(a for a in allowed if a.casefold() == "done")}
            else:
                unfillable.append(f"{meta.get('name', key)} ({key})")
        if unfillable:
            raise RejectedError(
                f"the Jira transition {step.name!r} to {step.to} requires " + ", ".join(unfillable),
                hint="testkase only fills Resolution=Done; make the field optional on the "
                "transition screen or move the issue in Jira",
                code="workflow",
            )
        body: dict[str, Any] = {"transition": {"id": step.id}}
        if fields:
            body["fields"] = fields
        response = self.http.request(
            "POST", f"{self.api}/issue/{ref}/transitions", json=body, ok=(204, 400)
        )
        if response.status_code == 400:
            raise RejectedError(
                f"Jira refused the transition {step.name!r} to {step.to}: "
                + describe_status(response),
                hint="the transition screen asks for fields testkase does not fill",
                code="workflow",
            )


def _project(data: dict[str, Any]) -> RemoteProject:
    return RemoteProject(key=str(data["key"]), name=str(data.get("name", "")), id=str(data["id"]))


def detect_deployment(url: str, *, policy: RetryPolicy | None = None) -> str:
    """ "cloud" or "server", from the anonymous `serverInfo` (anything but Cloud is server)."""
    site = url.rstrip("/")

    def not_jira(response: httpx.Response) -> KaseError:
        return UnreachableError(
            f"{site} does not answer like a Jira site (serverInfo: HTTP {response.status_code})",
            hint="check the URL: the address you open Jira at, e.g. https://acme.atlassian.net",
            code="not_jira",
        )

    funnel = Funnel(site, headers={}, secret="", translate=not_jira, policy=policy)
    try:
        response = funnel.request("GET", "/rest/api/2/serverInfo")
        data = response.json()
    except ValueError as exc:
        raise not_jira(response) from exc
    except UnreachableError as exc:
        if exc.code == "not_jira":
            raise
        cause = type(exc.__cause__).__name__ if exc.__cause__ else "no answer"
        raise UnreachableError(
            f"cannot reach Jira at {site} ({cause})",
            hint="check the URL, your network, and the VPN a self-hosted Jira often needs",
        ) from exc
    finally:
        funnel.close()
    deployment = data.get("deploymentType") if isinstance(data, dict) else None
    return "cloud" if deployment == "Cloud" else "server"


def open_jira(
    settings: ConnectionSettings, token: str, *, policy: RetryPolicy | None = None
) -> JiraTracker:
    """A tracker for `settings` (deployment detected from the site when not given)."""
    deployment = settings.deployment or detect_deployment(settings.url, policy=policy)
    if deployment not in ("cloud", "server"):
        raise UsageError(
            f"unknown Jira deployment {deployment!r}", hint="use cloud or server (or auto)"
        )
    return JiraTracker(settings, token, deployment=deployment, policy=policy)
