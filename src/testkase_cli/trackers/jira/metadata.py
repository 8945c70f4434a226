"""What a Jira project offers, read once per tracker: issue types and the create screen
of the defect type (`/issue/createmeta/{project}/issuetypes[/{id}]`, paged: Cloud
`issueTypes`/`fields`, Server 9+ `values` + `isLast`), priorities, and workflow statuses."""

from __future__ import annotations

from typing import Any

from testkase_cli.domain.models import ConnectionSettings
from testkase_cli.errors import NotFoundError, UsageError
from testkase_cli.trackers.http import Funnel
from testkase_cli.trackers.jira.errors import project_missing

DEFAULT_ISSUE_TYPE = "Bug"


class CreateMeta:
    """The defect issue type of the project and its create-screen fields by id."""

    def __init__(self, type_id: str, type_name: str, fields: list[dict[str, Any]]) -> None:
        self.type_id = type_id
        self.type_name = type_name
        self.fields = {str(f.get("fieldId") or f.get("key")): f for f in fields}


class ProjectMeta:
    def __init__(self, http: Funnel, api: str, settings: ConnectionSettings) -> None:
        self.http = http
        self.api = api
        self.cloud = api.endswith("/3")
        self.settings = settings
        self._create: CreateMeta | None = None
        self._statuses: dict[str, str] | None = None

    @property
    def project(self) -> str:
        if not self.settings.project:
            raise UsageError(
                "no Jira project is configured",
                hint="run `testkase connect jira --project KEY`",
            )
        return self.settings.project

    def issue_types(self, project: str) -> list[dict[str, Any]]:
        return self._pages(f"/issue/createmeta/{project}/issuetypes", "issueTypes", project)

    def _pages(self, path: str, cloud_key: str, project: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self.http.request(
                "GET",
                f"{self.api}{path}",
                params={"startAt": len(items), "maxResults": 200},
                ok=(200, 404),
            )
            if response.status_code == 404:
                raise project_missing(project)
            page = response.json()
            values = page.get(cloud_key if self.cloud else "values", [])
            items.extend(values)
            if page.get("isLast") or not values or len(items) >= int(page.get("total", 0)):
                return items

    def create_meta(self) -> CreateMeta:
        if self._create is not None:
            return self._create
        project = self.project
        types = [t for t in self.issue_types(project) if not t.get("subtask")]
        wanted = self.settings.issue_type or DEFAULT_ISSUE_TYPE
        chosen = next(
            (t for t in types if str(t.get("name", "")).casefold() == wanted.casefold()), None
        )
        if chosen is None:
            names = ", ".join(str(t.get("name")) for t in types) or "none"
            raise NotFoundError(
                f"issue type {wanted!r} is not enabled in Jira project {project}",
                hint=f"types available: {names}; run `testkase connect jira --issue-type NAME`",
            )
        fields = self._pages(
            f"/issue/createmeta/{project}/issuetypes/{chosen['id']}", "fields", project
        )
        self._create = CreateMeta(str(chosen["id"]), str(chosen["name"]), fields)
        return self._create

    def priority_names(self) -> list[str]:
        """This project's priorities, most severe first: the create screen's `priority`
        values, else every priority (Cloud `/priority/search`; `/priority` is deprecated
        there; Server `/priority`)."""
        field = self.create_meta().fields.get("priority")
        if field is not None and field.get("allowedValues"):
            levels: list[dict[str, Any]] = field["allowedValues"]
        elif not self.cloud:
            levels = self.http.request("GET", f"{self.api}/priority").json()
        else:
            levels = []
            while True:
                page = self.http.request(
                    "GET",
                    f"{self.api}/priority/search",
                    params={"startAt": len(levels), "maxResults": 100},
                ).json()
                levels.extend(page.get("values", []))
                if page.get("isLast", True) or not page.get("values"):
                    break
        return [str(level["name"]) for level in levels]

    def status_categories(self) -> dict[str, str]:
        """Status name -> category key, for the statuses of the defect type's workflow."""
        if self._statuses is None:
            wanted = (self.settings.issue_type or DEFAULT_ISSUE_TYPE).casefold()
            response = self.http.request("GET", f"{self.api}/project/{self.project}/statuses")
            statuses: dict[str, str] = {}
            for issue_type in response.json():
                if str(issue_type.get("name", "")).casefold() != wanted:
                    continue
                for status in issue_type.get("statuses", []):
                    category = (status.get("statusCategory") or {}).get("key", "")
                    statuses[str(status["name"])] = str(category)
            self._statuses = statuses
        return self._statuses
