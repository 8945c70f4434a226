"""The GitLab adapter behind `ports.Tracker` (REST v4, gitlab.com and self-managed).

Endpoints, and why (api-notes/gitlab.md):
- whoami: `GET /user`, then `GET /personal_access_tokens/self` for `expires_at` (400 for
  non-PAT tokens, 404 before GitLab 15.5, 403 for some fine-grained tokens: all just mean
  "unknown expiry").
- projects: `GET /projects?membership=true&simple=true` (without membership gitlab.com
  lists every public project), `GET /projects/:id` by numeric id or encoded path.
- listings: `GET /projects/:id/issues` with `state=all&issue_type=issue` (the list also
  holds tasks and incidents), `order_by=updated_at&sort=asc`, inclusive `updated_after`,
  labels AND-ed plus `not[labels]=testkase-defect`; the strategy in listing.py.
- an issue: `GET /projects/:id/issues/:iid` (`GET /issues/:id` is admin-only), so a ref
  is `<project_id>:<iid>` and stays valid for issues that moved to another project.
- writes: `POST .../issues`, `PUT .../issues/:iid` (state_event, add_labels+remove_labels
  in one request), `POST .../notes`, `POST .../labels` (409 = already there).
- moves: the old issue's `moved to path#iid` system note names the new one; its id is
  checked against `moved_to_id`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from testkase_cli.domain.models import (
    Account,
    DefectPriority,
    DefectStatus,
    NewIssue,
    RemoteComment,
    RemoteIssue,
    RemoteProject,
)
from testkase_cli.errors import RejectedError, UsageError
from testkase_cli.ports import DEFECT_LABEL
from testkase_cli.trackers.gitlab import mapper
from testkase_cli.trackers.gitlab.errors import make_translate
from testkase_cli.trackers.gitlab.paging import Pager, json_of
from testkase_cli.trackers.http import Funnel

DEFECT_COLOR = "#D9534F"
MAX_MOVE_HOPS = 5
_CLOSED = {DefectStatus.CLOSED, DefectStatus.ACHIEVED}
_TARGETS = {"closed": "close", "close": "close", "opened": "reopen", "open": "reopen"}


def encode_project(key: str) -> str:
    """`42` stays, `group/sub/proj` becomes `group%2Fsub%2Fproj` (one path segment)."""
    key = key.strip()
    return key if key.isdigit() else quote(key, safe="")


class GitLabTracker:
    """One connection to one GitLab instance and (optionally) one project."""

    platform = "gitlab"

    def __init__(
        self, funnel: Funnel, *, instance_url: str, project: str | None, labels: tuple[str, ...]
    ) -> None:
        self.funnel = funnel
        self.instance_url = instance_url
        self.project = project
        self.labels = labels
        self.pager = Pager(funnel)
        self._labels_ready: set[str] = set()

    @property
    def requests(self) -> int:
        return self.funnel.counters.requests

    @property
    def list_requests(self) -> int:
        return self.funnel.counters.lists

    def close(self) -> None:
        self.funnel.close()

    # -- plumbing --------------------------------------------------------------------------

    def _project_path(self) -> str:
        if not self.project:
            raise UsageError(
                "no GitLab project is configured",
                hint="run `testkase connect gitlab --url URL --project group/project`",
            )
        return f"/projects/{encode_project(self.project)}"

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        body: dict[str, Any] = json_of(response, dict)
        return body

    @staticmethod
    def _issue_path(ref: str) -> str:
        project, sep, iid = ref.partition(":")
        if not sep or not project.isdigit() or not iid.isdigit():
            raise UsageError(
                f"not a GitLab issue reference: {ref!r}", hint="expected <project_id>:<iid>"
            )
        return f"/projects/{project}/issues/{iid}"

    # -- identity and projects -------------------------------------------------------------

    def whoami(self) -> Account:
        user = self._json(self.funnel.request("GET", "/user"))
        expires: str | None = None
        token = self.funnel.request("GET", "/personal_access_tokens/self", ok=(200, 400, 403, 404))
        if token.status_code == 200:
            value = self._json(token).get("expires_at")
            expires = None if value is None else str(value)[:10]
        return Account(
            id=str(user["id"]),
            name=str(user.get("name") or user.get("username") or ""),
            email=user.get("email") or user.get("public_email") or None,
            token_expires=expires,
        )

    def list_projects(self) -> list[RemoteProject]:
        params = {"membership": "true", "simple": "true", "order_by": "id", "sort": "asc"}
        projects = [mapper.to_project(p) for p in self.pager.iterate("/projects", params)]
        return sorted(projects, key=lambda p: p.key.casefold())

    def get_project(self, key: str) -> RemoteProject:
        response = self.funnel.request("GET", f"/projects/{encode_project(key)}")
        return mapper.to_project(self._json(response))

    def list_issue_types(self, project: str) -> list[str]:
        self.get_project(project)
        return ["issue"]

    def priority_mapping(self) -> dict[DefectPriority, str]:
        return dict(mapper.PRIORITY_LABELS)

    # -- listings --------------------------------------------------------------------------

    def _listing(self, extra: dict[str, Any], updated_since: datetime | None) -> dict[str, Any]:
        params: dict[str, Any] = {"state": "all", "issue_type": "issue", **extra}
        if updated_since is not None:
            params["updated_after"] = mapper.format_since(updated_since)
        return params

    def _requirement_filter(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"not[labels]": DEFECT_LABEL}
        if self.labels:
            extra["labels"] = ",".join(self.labels)
        return extra

    def iter_requirements(self, *, updated_since: datetime | None) -> Iterator[RemoteIssue]:
        params = self._listing(self._requirement_filter(), updated_since)
        for data in self.pager.issues(f"{self._project_path()}/issues", params):
            yield mapper.to_issue(data)

    def iter_requirement_ids(self) -> Iterator[str]:
        # The listing is exact while issues change; one changed meanwhile may come twice.
        params = self._listing(self._requirement_filter(), None)
        for data in self.pager.issues(f"{self._project_path()}/issues", params):
            yield str(data["id"])

    def iter_defects(self, *, updated_since: datetime | None) -> Iterator[RemoteIssue]:
        params = self._listing({"labels": DEFECT_LABEL}, updated_since)
        for data in self.pager.issues(f"{self._project_path()}/issues", params):
            yield mapper.to_issue(data)

    # -- single issues ---------------------------------------------------------------------

    def get_issue(self, ref: str) -> RemoteIssue | None:
        response = self.funnel.request("GET", self._issue_path(ref), ok=(200, 404))
        if response.status_code == 404:
            return None
        return mapper.to_issue(self._json(response))

    def follow_move(self, issue: RemoteIssue) -> RemoteIssue | None:
        current = issue
        for _ in range(MAX_MOVE_HOPS):
            if current.moved_to_id is None:
                break
            following = self._moved_to(current)
            if following is None:
                return None
            current = following
        return None if current is issue else current

    def _moved_to(self, issue: RemoteIssue) -> RemoteIssue | None:
        origin = issue.key.rpartition("#")[0]
        params = {"activity_filter": "only_activity", "sort": "desc", "order_by": "created_at"}
        for note in self.pager.iterate_sequential(f"{self._issue_path(issue.ref)}/notes", params):
            if not note.get("system"):
                continue
            target = mapper.moved_target(str(note.get("body") or ""), origin)
            if target is None:
                continue
            path, iid = target
            response = self.funnel.request(
                "GET", f"/projects/{encode_project(path)}/issues/{iid}", ok=(200, 404)
            )
            if response.status_code == 404:
                return None
            moved = mapper.to_issue(self._json(response))
            return moved if moved.id == issue.moved_to_id else None
        return None

    # -- comments --------------------------------------------------------------------------

    def list_comments(self, issue: RemoteIssue) -> list[RemoteComment]:
        params = {"activity_filter": "only_comments", "sort": "asc", "order_by": "created_at"}
        notes = self.pager.iterate_sequential(f"{self._issue_path(issue.ref)}/notes", params)
        return [mapper.to_comment(n) for n in notes if not n.get("system")]

    def add_comment(self, issue: RemoteIssue, body: str, *, marker: str) -> RemoteComment:
        response = self.funnel.request(
            "POST",
            f"{self._issue_path(issue.ref)}/notes",
            json={"body": mapper.compose(body, marker)},
            ok=(201, 202),
        )
        if response.status_code == 202:
            raise RejectedError(
                f"GitLab ran the comment on {issue.key} as quick actions instead of posting it",
                code="quick_action",
            )
        return mapper.to_comment(self._json(response))

    # -- defects ---------------------------------------------------------------------------

    def _ensure_label(self, name: str) -> None:
        """Create a label we rely on, once per connection; 409 means it is there."""
        if name in self._labels_ready:
            return
        color = DEFECT_COLOR if name == DEFECT_LABEL else mapper.LABEL_COLORS.get(name, "#6699CC")
        response = self.funnel.request(
            "POST",
            f"{self._project_path()}/labels",
            json={"name": name, "color": color, "description": "Managed by testkase"},
            ok=(201, 403, 409),
            idempotent=True,  # sent again after a lost answer, it meets 409 (exists)
        )
        if response.status_code == 403 and self._json(response).get("error"):
            raise make_translate(self.instance_url)(response)
        # 403 Forbidden (role cannot manage labels): issue writes still create it.
        self._labels_ready.add(name)

    def create_issue(self, new: NewIssue) -> RemoteIssue:
        priority = mapper.PRIORITY_LABELS[new.priority]
        self._ensure_label(DEFECT_LABEL)
        self._ensure_label(priority)
        payload = {
            "title": new.title,
            "description": mapper.compose(new.description, new.marker),
            "labels": f"{DEFECT_LABEL},{priority}",
            "issue_type": "issue",
        }
        response = self.funnel.request(
            "POST", f"{self._project_path()}/issues", json=payload, ok=(201,)
        )
        created = mapper.to_issue(self._json(response))
        if new.status in _CLOSED:
            return self._update(created, {"state_event": "close"})
        return created

    def find_by_marker(self, marker: str) -> RemoteIssue | None:
        params = {"search": marker, "in": "description", "labels": DEFECT_LABEL, "state": "all"}
        for data in self.pager.iterate_sequential(f"{self._project_path()}/issues", params):
            issue = mapper.to_issue(data)
            if issue.marker == marker:
                return issue
        return None

    def set_priority(self, issue: RemoteIssue, priority: DefectPriority) -> None:
        label = mapper.PRIORITY_LABELS[priority]
        self._ensure_label(label)
        stale = {
            *mapper.PRIORITY_LABELS.values(),
            *(n for n in issue.labels if mapper.is_priority_label(n)),
        }
        stale.discard(label)
        self._update(issue, {"add_labels": label, "remove_labels": ",".join(sorted(stale))})

    def set_status(self, issue: RemoteIssue, target: str) -> None:
        event = _TARGETS.get(target.strip().casefold())
        if event is None:
            raise RejectedError(
                f"GitLab issues are opened or closed, not {target!r}",
                hint="map the defect status to `opened` or `closed`",
                code="invalid_status",
            )
        self._update(issue, {"state_event": event})

    def _update(self, issue: RemoteIssue, payload: dict[str, Any]) -> RemoteIssue:
        response = self.funnel.request("PUT", self._issue_path(issue.ref), json=payload)
        return mapper.to_issue(self._json(response))
