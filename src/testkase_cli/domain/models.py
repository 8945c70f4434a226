"""The local model: entities, enums in SPEC spelling, and what a tracker hands us."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

from testkase_cli.errors import UsageError


class SpecEnum(StrEnum):
    """An enum whose values are SPEC spellings and which parses case-insensitively."""

    @classmethod
    def parse(cls, raw: str, *, what: str | None = None) -> Self:
        wanted = raw.strip().casefold().replace("_", "-").replace(" ", "-")
        for member in cls:
            if member.value.casefold().replace(" ", "-") == wanted:
                return member
        allowed = ", ".join(m.value for m in cls)
        label = what or cls.__name__.lower()
        raise UsageError(f"invalid {label} {raw!r}", hint=f"allowed: {allowed}")


class Priority(SpecEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class RequirementStatus(SpecEnum):
    DRAFT = "Draft"
    ACTIVE = "Active"
    DEPRECATED = "Deprecated"


class CaseStatus(SpecEnum):
    DRAFT = "Draft"
    READY = "Ready"
    DEPRECATED = "Deprecated"


class CycleStatus(SpecEnum):
    PLANNED = "Planned"
    IN_PROGRESS = "In Progress"
    DONE = "Done"


class Result(SpecEnum):
    PASSED = "Passed"
    FAILED = "Failed"
    BLOCKED = "Blocked"
    SKIPPED = "Skipped"


class DefectPriority(SpecEnum):
    BLOCKER = "Blocker"
    CRITICAL = "Critical"
    MAJOR = "Major"
    MINOR = "Minor"
    TRIVIAL = "Trivial"


class DefectStatus(SpecEnum):
    OPEN = "Open"
    IN_PROGRESS = "In-Progress"
    CLOSED = "Closed"
    ACHIEVED = "Achieved"


class Source(SpecEnum):
    LOCAL = "local"
    JIRA = "jira"
    GITLAB = "gitlab"


class ExternalState(SpecEnum):
    LINKED = "linked"
    DELETED = "deleted"
    LEFT_FILTER = "left_filter"
    DETACHED = "detached"


class Kind(StrEnum):
    """Entity kinds and their id prefixes."""

    REQUIREMENT = "REQ"
    CASE = "TC"
    CYCLE = "CY"
    EXECUTION = "EX"
    DEFECT = "DEF"


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with `Z`, to the second (the JSON timestamp format)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"  # minus "+00:00"


def format_id(kind: Kind, number: int) -> str:
    return f"{kind.value}-{number}"


MAX_NUMBER = 2**63 - 1  # the store's integer column: no id is larger


def parse_id(kind: Kind, raw: str) -> int | None:
    """`TC-12` (any case) -> 12; None when `raw` is not an id of this kind (including
    non-ASCII digits like `TC-²` and numbers no store can hold)."""
    prefix, _, digits = raw.strip().partition("-")
    if prefix.upper() != kind.value or not (digits.isascii() and digits.isdigit()):
        return None
    number = int(digits)
    return number if number <= MAX_NUMBER else None


@dataclass(frozen=True)
class ExternalRef:
    platform: str
    key: str
    id: str
    url: str
    state: ExternalState = ExternalState.LINKED


@dataclass(frozen=True)
class RemoteProject:
    key: str
    name: str
    id: str


@dataclass(frozen=True)
class Account:
    """Who the token belongs to, as the tracker reports it."""

    id: str
    name: str
    email: str | None = None
    time_zone: str | None = None
    token_expires: str | None = None


@dataclass(frozen=True)
class RemoteIssue:
    """One tracker issue, already mapped to Markdown and UTC.

    `id` is the tracker's immutable identity (Jira issue id, GitLab global id);
    `ref` is what the adapter needs to address it (Jira id, GitLab iid).
    """

    id: str
    ref: str
    key: str
    url: str
    title: str
    description: str
    status: str
    updated: datetime
    created: datetime
    status_category: str | None = None
    priority: str | None = None
    labels: tuple[str, ...] = ()
    moved_to_id: str | None = None
    marker: str | None = None
    comment_count: int | None = None


@dataclass(frozen=True)
class RemoteComment:
    """A tracker comment; `marker` is the testkase marker when testkase posted it."""

    id: str
    body: str
    author: str
    created: datetime
    marker: str | None = None


@dataclass(frozen=True)
class NewIssue:
    """A defect to create in the tracker; `marker` lets a retry find an earlier attempt."""

    title: str
    description: str
    priority: DefectPriority
    status: DefectStatus
    marker: str


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to_status: str
    to_category: str | None = None
    required_fields: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ConnectionSettings:
    """The `[connection]` table of the config, validated."""

    platform: str
    url: str
    project: str | None = None
    deployment: str | None = None
    email: str | None = None
    issue_type: str | None = None
    jql: str | None = None
    labels: tuple[str, ...] = ()
    account: str | None = None

    @property
    def keyring_user(self) -> str:
        """Keyring user name: the instance URL and the account (email or user name)."""
        return f"{self.url.rstrip('/')}|{self.email or self.account or ''}"


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int
    sha256: str
    created_at: datetime


@dataclass(frozen=True)
class Requirement:
    number: int
    title: str
    description: str
    priority: Priority
    status: RequirementStatus
    folder: str
    source: Source
    external: ExternalRef | None
    test_cases: tuple[int, ...]
    defects: tuple[int, ...]
    attachments: tuple[Attachment, ...]
    created_at: datetime
    updated_at: datetime
    synced_at: datetime | None
    read_only: bool = False

    @property
    def id(self) -> str:
        return format_id(Kind.REQUIREMENT, self.number)


@dataclass(frozen=True)
class Case:
    number: int
    title: str
    description: str
    steps: tuple[str, ...]
    expected: str
    priority: Priority
    status: CaseStatus
    folder: str
    requirements: tuple[int, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def id(self) -> str:
        return format_id(Kind.CASE, self.number)


@dataclass(frozen=True)
class Cycle:
    number: int
    name: str
    description: str
    status: CycleStatus
    created_at: datetime
    updated_at: datetime
    executions: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        return format_id(Kind.CYCLE, self.number)


@dataclass(frozen=True)
class Execution:
    number: int
    cycle: int
    case: int
    result: Result
    notes: str
    executed_at: datetime

    @property
    def id(self) -> str:
        return format_id(Kind.EXECUTION, self.number)


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str
    origin: str
    created_at: datetime
    remote_id: str | None = None


@dataclass(frozen=True)
class DefectSync:
    state: str
    last_synced_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class Defect:
    number: int
    title: str
    description: str
    priority: DefectPriority
    status: DefectStatus
    case: int | None
    execution: int | None
    cycle: int | None
    requirements: tuple[int, ...]
    external: ExternalRef | None
    sync: DefectSync
    comments: tuple[Comment, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def id(self) -> str:
        return format_id(Kind.DEFECT, self.number)


@dataclass(frozen=True)
class Outgoing:
    """A tracker write, queued in the outbox with the local change that caused it."""

    kind: str
    target: str
    payload: dict[str, Any]
    marker: str


@dataclass(frozen=True)
class NewDefect:
    title: str
    description: str = ""
    priority: DefectPriority = DefectPriority.MAJOR
