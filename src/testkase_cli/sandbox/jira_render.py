"""JSON shapes of the Jira emulator, per flavour and API version (samples/jira, OpenAPI).

Timestamps are rendered `yyyy-MM-dd'T'HH:mm:ss.SSS+hhmm` in the user's time zone; Cloud v3
carries rich text as ADF, v2 (Server, and Cloud's v2 twin) as strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from testkase_cli.sandbox.jira_store import (
    CATEGORIES,
    DEFAULT_PRIORITY,
    STATUSES,
    USERS,
    Comment,
    Issue,
    JiraState,
    Project,
    User,
    WorkflowTransition,
    issue_type_id,
    plain_text,
)

NAVIGABLE = (
    "summary",
    "description",
    "status",
    "priority",
    "labels",
    "issuetype",
    "project",
    "created",
    "updated",
    "resolution",
    "resolutiondate",
    "reporter",
    "creator",
    "assignee",
    "statuscategorychangedate",
)
ALL_FIELDS = (*NAVIGABLE, "comment")
EMBEDDED_COMMENTS_CLOUD = 20
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


@dataclass(frozen=True)
class FieldSelection:
    """Which issue fields a request asked for (`*all`, `*navigable`, names, `-name`)."""

    fields: tuple[str, ...]
    want_key: bool

    @classmethod
    def parse(cls, raw: Iterable[str], *, flavor: str) -> FieldSelection:
        names = [n.strip() for item in raw for n in item.split(",") if n.strip()]
        chosen: list[str] = []
        excluded = {n[1:] for n in names if n.startswith("-")}
        for name in names:
            if name == "*all":
                chosen.extend(ALL_FIELDS)
            elif name == "*navigable":
                chosen.extend(NAVIGABLE)
            elif not name.startswith("-") and name in ALL_FIELDS:
                chosen.append(name)
        if flavor != "cloud":
            excluded.add("statuscategorychangedate")
        fields = tuple(dict.fromkeys(n for n in chosen if n not in excluded))
        return cls(fields, want_key="key" in names or bool(fields))

    @property
    def ids_only(self) -> bool:
        return not self.fields


class Renderer:
    """Renders records for one request: base URL, API version and the user's zone."""

    def __init__(self, state: JiraState, base_url: str, version: str) -> None:
        self.state = state
        self.base = base_url
        self.version = version
        self.api = f"{base_url}/rest/api/{version}"
        self.cloud = state.flavor == "cloud"
        self.zone = state.zone()
        self._memo: dict[tuple[str, str], dict[str, Any]] = {}

    def _cached(self, kind: str, name: str, build: Callable[[], dict[str, Any]]) -> Any:
        """Shared sub-objects (status, priority, user...) are built once per response."""
        key = (kind, name)
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def ts(self, ms: int) -> str:
        moment = datetime.fromtimestamp(ms / 1000, self.zone)
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}{moment:%z}"

    def body(self, stored: Any) -> Any:
        """A description or comment body in this API version's representation."""
        if stored is None:
            return None
        if self.cloud and self.version == "2":
            return plain_text(stored)
        return stored

    def avatars(self, kind: str, ident: str) -> dict[str, str]:
        return {
            f"{n}x{n}": f"{self.base}/secure/{kind}avatar?size={size}&ownerId={quote(ident)}"
            for n, size in ((48, "large"), (24, "small"), (16, "xsmall"), (32, "medium"))
        }

    def user(self, user: User) -> dict[str, Any]:
        if self.cloud:
            return {
                "self": f"{self.api}/user?accountId={quote(user.account_id)}",
                "accountId": user.account_id,
                "emailAddress": user.email,
                "avatarUrls": self.avatars("user", user.account_id),
                "displayName": user.display,
                "active": True,
                "timeZone": self.state.config.time_zone,
                "accountType": "atlassian",
            }
        return {
            "self": f"{self.api}/user?username={user.name}",
            "name": user.name,
            "key": user.key,
            "emailAddress": user.email,
            "avatarUrls": self.avatars("user", user.name),
            "displayName": user.display,
            "active": True,
            "timeZone": self.state.config.time_zone,
        }

    def myself(self, user: User) -> dict[str, Any]:
        body = dict(self.user(user))
        body["locale"] = "en_US"
        body["groups"] = {"size": 2, "items": []}
        body["applicationRoles"] = {"size": 1, "items": []}
        body["expand"] = "groups,applicationRoles"
        if not self.cloud:
            body["deleted"] = False
        return body

    def project(self, project: Project, *, detail: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "avatarUrls": self.avatars("project", project.id),
            "projectTypeKey": "software",
        }
        if self.cloud:
            body.update(simplified=False, style="classic", isPrivate=False, properties={})
        else:
            body.update(expand="description,lead,url,projectKeys", archived=False)
        if detail:
            body["description"] = f"{project.name} requirements and defects"
            body["issueTypes"] = [self.issuetype(n) for n in self.state.config.issue_types]
        return body

    def status(self, name: str) -> dict[str, Any]:
        status_id, category = STATUSES[name]
        category_id, colour, category_name = CATEGORIES[category]
        return {
            "self": f"{self.api}/status/{status_id}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": name,
            "id": status_id,
            "statusCategory": {
                "self": f"{self.api}/statuscategory/{category_id}",
                "id": category_id,
                "key": category,
                "colorName": colour,
                "name": category_name,
            },
        }

    def priority(self, name: str, *, detail: bool = False) -> dict[str, Any]:
        priority_id = str(self.state.priorities.index(name) + 1)
        body: dict[str, Any] = {
            "self": f"{self.api}/priority/{priority_id}",
            "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }
        if detail:
            body["statusColor"] = "#ff5630"
            body["description"] = f"{name} priority"
        return body

    def issuetype(self, name: str) -> dict[str, Any]:
        index = self.state.config.issue_types.index(name)
        type_id = issue_type_id(index)
        body: dict[str, Any] = {
            "self": f"{self.api}/issuetype/{type_id}",
            "id": type_id,
            "description": f"A {name.lower()}.",
            "iconUrl": f"{self.base}/secure/viewavatar?size=xsmall&avatarId={10300 + index}"
            "&avatarType=issuetype",
            "name": name,
            "subtask": name == "Sub-task",
            "avatarId": 10300 + index,
        }
        if self.cloud:
            body["hierarchyLevel"] = -1 if name == "Sub-task" else (1 if name == "Epic" else 0)
        return body

    def resolution(self, name: str) -> dict[str, Any]:
        resolution_id = str(10000 + self.state.config.resolutions.index(name))
        return {
            "self": f"{self.api}/resolution/{resolution_id}",
            "id": resolution_id,
            "description": f"Resolved as {name.lower()}.",
            "name": name,
        }

    def comment(self, issue: Issue, comment: Comment) -> dict[str, Any]:
        author = self.user(USERS[comment.author])
        body: dict[str, Any] = {
            "self": f"{self.api}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": author,
            "body": self.body(comment.body),
            "updateAuthor": author,
            "created": self.ts(comment.created),
            "updated": self.ts(comment.updated),
        }
        if self.cloud:
            body["jsdPublic"] = True
        return body

    def comment_field(self, issue: Issue) -> dict[str, Any]:
        comments = issue.comments or []
        shown = comments[:EMBEDDED_COMMENTS_CLOUD] if self.cloud else comments
        return {
            "comments": [self.comment(issue, c) for c in shown],
            "self": f"{self.api}/issue/{issue.id}/comment",
            "maxResults": len(shown),
            "total": len(comments),
            "startAt": 0,
        }

    def _field_builders(self) -> dict[str, Callable[[Issue], Any]]:
        resolutions = self.state.config.resolutions
        return {
            "summary": lambda i: i.summary,
            "description": lambda i: self.body(i.description),
            "status": lambda i: self._cached("status", i.status, lambda: self.status(i.status)),
            "priority": lambda i: (
                self._cached("priority", i.priority, lambda: self.priority(i.priority or ""))
                if i.priority
                else None
            ),
            "labels": lambda i: list(i.labels),
            "issuetype": lambda i: (
                self.issuetype(i.issuetype)
                if i.issuetype in self.state.config.issue_types
                else None
            ),
            "project": lambda i: self.project(self.state.projects[i.project]),
            "created": lambda i: self.ts(i.created),
            "updated": lambda i: self.ts(i.updated),
            "resolution": lambda i: (
                self.resolution(i.resolution) if i.resolution in resolutions else None
            ),
            "resolutiondate": lambda i: self.ts(i.resolved) if i.resolved else None,
            "reporter": lambda i: self._cached(
                "user", i.reporter, lambda: self.user(USERS[i.reporter])
            ),
            "creator": lambda i: self._cached(
                "user", i.reporter, lambda: self.user(USERS[i.reporter])
            ),
            "assignee": lambda i: None,
            "statuscategorychangedate": lambda i: self.ts(i.status_changed),
            "comment": self.comment_field,
        }

    def issues(
        self, issues: Iterable[Issue], selection: FieldSelection, properties: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        builders = self._field_builders()
        wanted = [(name, builders[name]) for name in selection.fields]
        props = [p for p in properties if p]
        out: list[dict[str, Any]] = []
        for issue in issues:
            if selection.ids_only and not props and self.cloud:
                # Cloud's enhanced search: ids only unless other fields are asked for.
                body: dict[str, Any] = {"id": str(issue.id)}
                if selection.want_key:
                    body["key"] = issue.key
                out.append(body)
                continue
            body = {
                "expand": ISSUE_EXPAND,
                "id": str(issue.id),
                "self": f"{self.api}/issue/{issue.id}",
                "key": issue.key,
                "fields": {name: build(issue) for name, build in wanted},
            }
            if props:
                stored = issue.properties or {}
                body["properties"] = {k: stored[k] for k in props if k in stored}
            out.append(body)
        return out

    def transition(self, transition: WorkflowTransition, *, fields: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": transition.id,
            "name": transition.name,
            "to": self.status(transition.to),
        }
        if self.cloud:
            body.update(
                hasScreen=transition.needs_resolution,
                isGlobal=False,
                isInitial=False,
                isAvailable=True,
                isConditional=False,
                isLooped=False,
            )
        if fields:
            body["fields"] = (
                {"resolution": self.resolution_meta(required=True)}
                if transition.needs_resolution
                else {}
            )
        return body

    def resolution_meta(self, *, required: bool) -> dict[str, Any]:
        return {
            "required": required,
            "schema": {"type": "resolution", "system": "resolution"},
            "name": "Resolution",
            "key": "resolution",
            "fieldId": "resolution",
            "hasDefaultValue": False,
            "operations": ["set"],
            "allowedValues": [self.resolution(n) for n in self.state.config.resolutions],
        }

    def create_fields(self, project: Project, type_name: str) -> list[dict[str, Any]]:
        """Field metadata of the create screen of one issue type."""
        state = self.state

        def meta(
            field_id: str, name: str, schema: dict[str, Any], *, required: bool, **extra: Any
        ) -> dict[str, Any]:
            body: dict[str, Any] = {
                "required": required,
                "schema": schema,
                "name": name,
                "fieldId": field_id,
                "key": field_id,
                "hasDefaultValue": False,
                "operations": ["set"],
            }
            body.update(extra)
            if not self.cloud:
                body.pop("key")
            return body

        fields = [
            meta("summary", "Summary", {"type": "string", "system": "summary"}, required=True),
            meta(
                "issuetype",
                "Issue Type",
                {"type": "issuetype", "system": "issuetype"},
                required=True,
                allowedValues=[self.issuetype(type_name)],
            ),
            meta(
                "project",
                "Project",
                {"type": "project", "system": "project"},
                required=True,
                allowedValues=[self.project(project)],
            ),
            meta(
                "description",
                "Description",
                {"type": "string", "system": "description"},
                required=False,
            ),
            meta(
                "priority",
                "Priority",
                {"type": "priority", "system": "priority"},
                required=False,
                hasDefaultValue=True,
                allowedValues=[self.priority(n) for n in state.priorities],
                defaultValue=self.priority(DEFAULT_PRIORITY[state.flavor]),
            ),
            meta(
                "labels",
                "Labels",
                {"type": "array", "items": "string", "system": "labels"},
                required=False,
                operations=["add", "set", "remove"],
                autoCompleteUrl=f"{self.api}/label/suggest?query=",
            ),
            meta(
                "reporter",
                "Reporter",
                {"type": "user", "system": "reporter"},
                required=True,
                hasDefaultValue=True,
            ),
        ]
        for custom_id, (field_id, name) in enumerate(state.config.required_fields.items(), 1):
            fields.append(
                meta(
                    field_id,
                    name,
                    {
                        "type": "string",
                        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
                        "customId": 10100 + custom_id,
                    },
                    required=True,
                )
            )
        return fields
