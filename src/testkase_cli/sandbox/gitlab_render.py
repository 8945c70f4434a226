"""JSON entities of the GitLab emulator, shaped like GitLab's own (API::Entities::*).

Field lists follow api-notes/gitlab.md section 5 (CE 19.2 live key list) and the samples
in shared/samples/gitlab; `subscribed` only on single-issue responses, `has_tasks` and
`task_status` only when the description holds task items, labels sorted by title.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from testkase_cli.sandbox.gitlab_state import (
    Event,
    GitLabState,
    Issue,
    Label,
    Note,
    Project,
    Token,
    User,
    render_time,
)

_TASK = re.compile(r"^\s*[-*+]\s+\[([ xX])\]", re.MULTILINE)


class Renderer:
    """Renders state objects for one request (instance URL and zone fixed)."""

    def __init__(self, state: GitLabState, base_url: str) -> None:
        self.state = state
        self.base = base_url.rstrip("/")
        self.tz = state.config.tz()

    def time(self, ms: int | None) -> str | None:
        return None if ms is None else render_time(ms, self.tz)

    def user_basic(self, user_id: int | None) -> dict[str, Any] | None:
        if user_id is None:
            return None
        user = self.state.users[user_id]
        digest = hashlib.md5(user.email.encode(), usedforsecurity=False).hexdigest()
        return {
            "id": user.id,
            "username": user.username,
            "public_email": "",
            "name": user.name,
            "state": "active",
            "locked": False,
            "avatar_url": f"https://www.gravatar.com/avatar/{digest}?s=80&d=identicon",
            "web_url": f"{self.base}/{user.username}",
        }

    def current_user(self, user: User) -> dict[str, Any]:
        created = self.time(self.state.clock.now() - 400 * 86_400_000)
        return {
            **(self.user_basic(user.id) or {}),
            "created_at": created,
            "bio": "",
            "location": "",
            "linkedin": "",
            "twitter": "",
            "discord": "",
            "github": "",
            "website_url": "",
            "organization": "",
            "job_title": "",
            "pronouns": None,
            "bot": False,
            "work_information": None,
            "followers": 0,
            "following": 0,
            "local_time": None,
            "last_sign_in_at": created,
            "confirmed_at": created,
            "last_activity_on": None,
            "email": user.email,
            "theme_id": 1,
            "color_scheme_id": 1,
            "projects_limit": 100000,
            "current_sign_in_at": created,
            "identities": [],
            "can_create_group": True,
            "can_create_project": True,
            "two_factor_enabled": False,
            "external": False,
            "private_profile": False,
            "commit_email": user.email,
        }

    def token(self, token: Token) -> dict[str, Any]:
        return {
            "id": token.id,
            "name": token.name,
            "revoked": token.revoked,
            "created_at": self.time(token.created),
            "description": "",
            "scopes": list(token.scopes),
            "user_id": token.user_id,
            "last_used_at": self.time(self.state.clock.now()),
            "active": not (token.revoked or token.expired),
            "expires_at": self.state.config.token_expires_at,
        }

    def project(self, project: Project, user_id: int | None, *, simple: bool) -> dict[str, Any]:
        web_url = f"{self.base}/{project.full_path}"
        body: dict[str, Any] = {
            "id": project.id,
            "description": project.description,
            "name": project.name,
            "name_with_namespace": project.name_with_namespace,
            "path": project.path,
            "path_with_namespace": project.full_path,
            "created_at": self.time(project.created),
            "default_branch": "main",
            "tag_list": [],
            "topics": [],
            "ssh_url_to_repo": f"git@{self._host()}:{project.full_path}.git",
            "http_url_to_repo": f"{web_url}.git",
            "web_url": web_url,
            "readme_url": f"{web_url}/-/blob/main/README.md",
            "forks_count": 0,
            "avatar_url": None,
            "star_count": 0,
            "last_activity_at": self.time(self.state.clock.now()),
            "visibility": project.visibility,
            "namespace": {
                "id": project.namespace_id,
                "name": project.namespace_name,
                "path": project.namespace,
                "kind": "group",
                "full_path": project.namespace,
                "parent_id": None,
                "avatar_url": None,
                "web_url": f"{self.base}/groups/{project.namespace}",
            },
        }
        if simple:
            return body
        api = f"{self.base}/api/v4/projects/{project.id}"
        access = project.members.get(user_id) if user_id is not None else None
        open_count = sum(
            1
            for i in project.issue_ids
            if not self.state.issues[i].deleted and self.state.issues[i].state == "opened"
        )
        body.update(
            {
                "description_html": f'<p dir="auto">{project.description}</p>',
                "_links": {
                    "self": api,
                    "issues": f"{api}/issues",
                    "merge_requests": f"{api}/merge_requests",
                    "repo_branches": f"{api}/repository/branches",
                    "labels": f"{api}/labels",
                    "events": f"{api}/events",
                    "members": f"{api}/members",
                    "cluster_agents": f"{api}/cluster_agents",
                },
                "packages_enabled": True,
                "empty_repo": False,
                "archived": False,
                "resolve_outdated_diff_discussions": False,
                "repository_object_format": "sha1",
                "issues_enabled": True,
                "merge_requests_enabled": True,
                "wiki_enabled": True,
                "jobs_enabled": True,
                "snippets_enabled": True,
                "container_registry_enabled": False,
                "service_desk_enabled": False,
                "can_create_merge_request_in": access is not None,
                "issues_access_level": "enabled",
                "repository_access_level": "enabled",
                "merge_requests_access_level": "enabled",
                "open_issues_count": open_count,
                "creator_id": 1,
                "updated_at": self.time(self.state.clock.now()),
                "import_status": "none",
                "shared_runners_enabled": True,
                "group_runners_enabled": True,
                "request_access_enabled": True,
                "shared_with_groups": [],
                "permissions": {
                    "project_access": (
                        None
                        if access is None
                        else {"access_level": access, "notification_level": 3}
                    ),
                    "group_access": None,
                },
            }
        )
        return body

    def _host(self) -> str:
        return self.base.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]

    def issue(self, issue: Issue, *, single: bool) -> dict[str, Any]:
        project = self.state.projects[issue.project_id]
        api = f"{self.base}/api/v4/projects/{project.id}/issues/{issue.iid}"
        author = self.user_basic(issue.author_id)
        body: dict[str, Any] = {
            "id": issue.id,
            "iid": issue.iid,
            "project_id": issue.project_id,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "created_at": self.time(issue.created),
            "updated_at": self.time(issue.updated),
            "closed_at": self.time(issue.closed),
            "closed_by": self.user_basic(issue.closed_by),
            "labels": sorted(issue.labels),
            "milestone": None,
            "assignees": [],
            "author": author,
            "type": issue.issue_type.upper(),
            "assignee": None,
            "user_notes_count": issue.user_notes_count,
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "start_date": None,
            "due_date": None,
            "confidential": False,
            "discussion_locked": None,
            "issue_type": issue.issue_type,
            "web_url": f"{self.base}/{project.full_path}/-/issues/{issue.iid}",
            "time_stats": {
                "time_estimate": 0,
                "total_time_spent": 0,
                "human_time_estimate": None,
                "human_total_time_spent": None,
            },
            "task_completion_status": {"count": 0, "completed_count": 0},
        }
        tasks = _TASK.findall(issue.description or "")
        if tasks:
            done = sum(1 for t in tasks if t != " ")
            body["task_completion_status"] = {"count": len(tasks), "completed_count": done}
            body["has_tasks"] = True
            body["task_status"] = f"{done} of {len(tasks)} checklist items completed"
        body.update(
            {
                "_links": {
                    "self": api,
                    "notes": f"{api}/notes",
                    "award_emoji": f"{api}/award_emoji",
                    "project": f"{self.base}/api/v4/projects/{project.id}",
                    "closed_as_duplicate_of": None,
                },
                "references": {
                    "short": f"#{issue.iid}",
                    "relative": f"#{issue.iid}",
                    "full": f"{project.full_path}#{issue.iid}",
                },
                "severity": "UNKNOWN",
                "moved_to_id": issue.moved_to_id,
                "imported": False,
                "imported_from": "none",
                "service_desk_reply_to": None,
            }
        )
        if single:
            body["subscribed"] = True
        return body

    def note(self, note: Note) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": note.id,
            "type": None,
            "body": note.body,
            "attachment": None,
            "author": self.user_basic(note.author_id),
            "created_at": self.time(note.created),
            "updated_at": self.time(note.updated),
            "system": note.system,
            "noteable_id": note.issue_id,
            "noteable_type": "Issue",
            "project_id": note.project_id,
            "resolvable": False,
            "confidential": False,
            "internal": False,
            "imported": False,
            "imported_from": "none",
            "noteable_iid": note.iid,
        }
        if note.commands_changes:
            body["commands_changes"] = note.commands_changes
        return body

    def label(self, label: Label, *, counts: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": label.id,
            "name": label.name,
            "description": label.description,
            "description_html": label.description or "",
            "text_color": text_color(label.color),
            "color": label.color,
            "archived": False,
            "subscribed": False,
            "priority": None,
            "is_project_label": True,
        }
        if counts:
            issues = [
                self.state.issues[i]
                for i in self.state.projects[label.project_id].issue_ids
                if not self.state.issues[i].deleted and label.name in self.state.issues[i].labels
            ]
            body["open_issues_count"] = sum(1 for i in issues if i.state == "opened")
            body["closed_issues_count"] = sum(1 for i in issues if i.state == "closed")
            body["open_merge_requests_count"] = 0
        return body

    def event(self, event: Event, project: Project) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": event.id,
            "user": self.user_basic(event.user_id),
            "created_at": self.time(event.created),
            "resource_type": "Issue",
            "resource_id": event.issue_id,
        }
        if event.state is not None:
            body["state"] = event.state
            return body
        label = self.state.label_by_id(project, event.label_id or 0)
        body["label"] = (
            None
            if label is None
            else {
                "id": label.id,
                "name": label.name,
                "color": label.color,
                "description": label.description,
                "description_html": label.description or "",
                "text_color": text_color(label.color),
            }
        )
        body["action"] = event.action
        return body


def text_color(color: str) -> str:
    """GitLab's WCAG contrast pick (Gitlab::Color#contrast): white or near-black text."""
    luminance = _luminance(color)
    if luminance is None:
        return "#FFFFFF"
    with_white = 1.05 / (luminance + 0.05)
    with_dark = (luminance + 0.05) / (_DARK_LUMINANCE + 0.05)
    return "#FFFFFF" if with_white >= with_dark else "#1F1E24"


def _luminance(color: str) -> float | None:
    hex_part = color.lstrip("#")
    if len(hex_part) == 3:
        hex_part = "".join(c * 2 for c in hex_part)
    try:
        channels = [int(hex_part[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    except ValueError:
        return None
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


_DARK_LUMINANCE = _luminance("#1F1E24") or 0.0
