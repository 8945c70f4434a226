"""The ports services depend on; adapters implement them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from testkase_cli.domain.models import (
    Account,
    DefectPriority,
    NewIssue,
    RemoteComment,
    RemoteIssue,
    RemoteProject,
)

DEFECT_LABEL = "testkase-defect"
"""Label every pushed defect carries: it keeps defects out of the requirement filter."""


class Tracker(Protocol):
    """One tracker connection (Jira Cloud, Jira Server/DC or GitLab).

    Every method raises only `KaseError` subclasses: AuthError (401/403 on credentials),
    NotFoundError (project, issue type), RejectedError (validation, workflow, permission),
    UnreachableError (network, timeouts, 5xx/429 past the retry budget).
    """

    platform: str

    @property
    def requests(self) -> int:
        """HTTP requests made so far (retries included)."""

    @property
    def list_requests(self) -> int:
        """List/search requests made so far (issue listings, searches)."""

    def whoami(self) -> Account: ...

    def list_projects(self) -> list[RemoteProject]: ...

    def get_project(self, key: str) -> RemoteProject: ...

    def list_issue_types(self, project: str) -> list[str]: ...

    def priority_mapping(self) -> dict[DefectPriority, str]:
        """Each defect priority -> the tracker priority (name or label) it is pushed as."""

    def iter_requirements(self, *, updated_since: datetime | None) -> Iterator[RemoteIssue]:
        """Issues matching the requirement filter (project + JQL/labels, minus defects),
        updated at or after `updated_since` (UTC; None = all), in no promised order. An
        issue that changed while the listing ran may come again, newer (the later one
        wins)."""

    def iter_requirement_ids(self) -> Iterator[str]:
        """Ids of every issue matching the requirement filter (reconciliation)."""

    def iter_defects(self, *, updated_since: datetime | None) -> Iterator[RemoteIssue]:
        """Issues carrying DEFECT_LABEL, updated at or after `updated_since`."""

    def get_issue(self, ref: str) -> RemoteIssue | None:
        """The issue addressed by `ref` (RemoteIssue.ref), None when it is gone (404)."""

    def follow_move(self, issue: RemoteIssue) -> RemoteIssue | None:
        """The issue a moved issue became (GitLab `moved_to_id`), None if not reachable."""

    def list_comments(self, issue: RemoteIssue) -> list[RemoteComment]:
        """Human comments (no system notes), oldest first, bodies as Markdown."""

    def add_comment(self, issue: RemoteIssue, body: str, *, marker: str) -> RemoteComment:
        """Post `body` (Markdown) with `marker` embedded so a retry can find it."""

    def create_issue(self, new: NewIssue) -> RemoteIssue:
        """Create a defect issue: DEFECT_LABEL, `new.marker` embedded, priority mapped.
        Never retried blindly: a lost response surfaces as UnreachableError."""

    def find_by_marker(self, marker: str) -> RemoteIssue | None:
        """The defect issue carrying `marker`, if the tracker already has one."""

    def set_priority(self, issue: RemoteIssue, priority: DefectPriority) -> None: ...

    def set_status(self, issue: RemoteIssue, target: str) -> None:
        """Move the issue to tracker status `target` (Jira status name through workflow
        transitions, several hops if needed; GitLab `opened`/`closed`). A refused or
        impossible transition raises RejectedError with the tracker's reason."""

    def close(self) -> None: ...


class SecretStore(Protocol):
    def get(self, account: str) -> str | None: ...

    def set(self, account: str, secret: str) -> None: ...

    def delete(self, account: str) -> None: ...
