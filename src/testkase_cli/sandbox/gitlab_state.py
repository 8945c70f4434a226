"""The GitLab emulator's data: users, projects, labels, issues, notes, events, the clock.

Plain data plus the operations the REST routes and the control API share. Nothing here
locks: `GitLabApp` holds its lock around every call. Times are integer milliseconds since
the epoch (UTC) and are rendered in the instance's zone only at the edge.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

ISSUE_TYPES = ("issue", "incident", "test_case", "requirement", "task", "ticket")
DEFAULT_LABEL_COLOR = "#6699cc"
GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 20, 30, 40, 50  # access levels
MAX_COUNT_LIMIT = 10_000
OFFSET_PAGINATION_LIMIT = 50_000


@dataclass(slots=True)
class User:
    id: int
    username: str
    name: str
    email: str


@dataclass(slots=True)
class Token:
    """A personal access token; `secret` is what clients send."""

    id: int
    secret: str
    name: str
    user_id: int
    scopes: tuple[str, ...]
    created: int
    revoked: bool = False
    expired: bool = False


@dataclass(slots=True)
class Label:
    id: int
    name: str
    color: str
    description: str | None
    project_id: int


@dataclass(slots=True)
class Project:
    id: int
    name: str
    path: str
    namespace: str
    namespace_name: str
    namespace_id: int
    description: str
    visibility: str
    created: int
    members: dict[int, int]
    labels: dict[str, Label] = field(default_factory=dict)
    issue_ids: list[int] = field(default_factory=list)
    by_iid: dict[int, int] = field(default_factory=dict)
    next_iid: int = 1

    @property
    def full_path(self) -> str:
        return f"{self.namespace}/{self.path}"

    @property
    def name_with_namespace(self) -> str:
        return f"{self.namespace_name} / {self.name}"


@dataclass(slots=True)
class Note:
    id: int
    body: str
    author_id: int
    created: int
    updated: int
    system: bool
    issue_id: int
    project_id: int
    iid: int
    commands_changes: dict[str, Any] | None = None


@dataclass(slots=True)
class Event:
    """A resource state event (`state`) or label event (`label_id` + `action`)."""

    id: int
    user_id: int
    created: int
    issue_id: int
    state: str | None = None
    label_id: int | None = None
    action: str | None = None


@dataclass(slots=True)
class Issue:
    id: int
    iid: int
    project_id: int
    title: str
    description: str | None
    labels: list[str]
    created: int
    updated: int
    author_id: int
    state: str = "opened"
    issue_type: str = "issue"
    closed: int | None = None
    closed_by: int | None = None
    moved_to_id: int | None = None
    deleted: bool = False
    notes: list[Note] | None = None
    events: list[Event] | None = None

    @property
    def user_notes_count(self) -> int:
        return sum(1 for n in self.notes or () if not n.system)


@dataclass
class Config:
    """The knobs of `POST /_sandbox/config`."""

    utc_offset: str = "Z"
    scoped_labels: bool = False
    token_expires_at: str | None = None
    keyset: bool = True
    external_url: str | None = None
    version: str | None = None

    def reported_version(self) -> str:
        """What `/version` says: a release with keyset issue lists (18.3+) or one before."""
        if self.version is not None:
            return self.version
        return "18.5.1" if self.keyset else "18.2.4"

    def tz(self) -> timezone:
        if self.utc_offset in ("Z", "+00:00", "UTC"):
            return UTC
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, _, minutes = self.utc_offset.lstrip("+-").partition(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))

    def update(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if not hasattr(self, key):
                raise KeyError(key)
            if key == "utc_offset":
                previous = self.utc_offset
                self.utc_offset = str(value)
                try:
                    self.tz()
                except ValueError:
                    self.utc_offset = previous
                    raise
                continue
            setattr(self, key, value)


class Clock:
    """Real time plus an offset the control API moves."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def set(self, when: int) -> None:
        self.offset_ms = when - int(time.time() * 1000)

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)


def render_time(ms: int, tz: timezone) -> str:
    """ISO 8601 with milliseconds in the instance's zone: `...T11:51:58.172+02:00` or `Z`."""
    moment = datetime.fromtimestamp(ms // 1000, tz)
    text = f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}"
    if tz is UTC:
        return text + "Z"
    offset = moment.strftime("%z")
    return f"{text}{offset[:3]}:{offset[3:]}"


def parse_time(raw: str) -> int | None:
    """Milliseconds for an ISO 8601 date or date-time (naive = UTC), None when invalid."""
    text = raw.strip()
    if text.endswith((" UTC", " utc")):
        text = text[:-4] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def scope_of(label: str) -> str | None:
    """The scope of a scoped label: everything up to the last `::` (EE rule)."""
    head, sep, _ = label.rpartition("::")
    return head if sep else None


@dataclass(frozen=True)
class IssueQuery:
    """Filters and order of a project issue listing, already validated."""

    state: str = "all"
    labels: tuple[str, ...] = ()
    not_labels: tuple[str, ...] = ()
    iids: tuple[int, ...] = ()
    search: str | None = None
    search_in: tuple[str, ...] = ("title", "description")
    issue_type: str | None = None
    updated_after: int | None = None
    updated_before: int | None = None
    created_after: int | None = None
    created_before: int | None = None
    order_by: str = "created_at"


@dataclass
class Listing:
    """Matching issues sorted ascending by (order key, id), with the keys for bisecting."""

    issues: list[Issue]
    keys: list[tuple[Any, int]]

    def after(self, key: tuple[Any, int], count: int, *, descending: bool) -> list[Issue]:
        if descending:
            end = bisect_left(self.keys, key)
            return self.issues[max(0, end - count) : end][::-1]
        start = bisect_right(self.keys, key)
        return self.issues[start : start + count]

    def window(self, offset: int, count: int, *, descending: bool) -> list[Issue]:
        if not descending:
            return self.issues[offset : offset + count]
        total = len(self.issues)
        end = max(0, total - offset)
        return self.issues[max(0, end - count) : end][::-1]


def order_key(issue: Issue, order_by: str) -> tuple[Any, int]:
    if order_by == "updated_at":
        return (issue.updated, issue.id)
    if order_by == "title":
        return (issue.title, issue.id)
    return (issue.created, issue.id)


def fuzzy_terms(query: str) -> list[str]:
    """GitLab's `fuzzy_search` terms: quoted phrases kept, words under 3 chars dropped."""
    terms: list[str] = []
    rest = query
    while '"' in rest:
        before, _, tail = rest.partition('"')
        phrase, closed, after = tail.partition('"')
        if not closed:
            break
        terms.extend(before.split())
        terms.append(phrase)
        rest = after
    terms.extend(rest.split())
    long_terms = [t.casefold() for t in terms if len(t) >= 3]
    return long_terms or [query.strip().casefold()]


class GitLabState:
    """Everything the emulated instance knows."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.config = Config()
        self.users: dict[int, User] = {}
        self.tokens: dict[str, Token] = {}
        self.projects: dict[int, Project] = {}
        self.issues: dict[int, Issue] = {}
        self.next_issue_id = 5001
        self.next_note_id = 90001
        self.next_label_id = 101
        self.next_event_id = 7001
        self.version = 0
        self._cache: dict[tuple[int, IssueQuery], tuple[int, Listing]] = {}

    # -- lookups ---------------------------------------------------------------------------

    def project_by_ref(self, ref: str) -> Project | None:
        """By numeric id, or by full path (case-insensitive) when it holds a slash."""
        if ref.isdigit():
            return self.projects.get(int(ref))
        if "/" not in ref:
            return None
        wanted = ref.casefold()
        for project in self.projects.values():
            if project.full_path.casefold() == wanted:
                return project
        return None

    def issue_in(self, project: Project, iid: int) -> Issue | None:
        issue_id = project.by_iid.get(iid)
        issue = None if issue_id is None else self.issues[issue_id]
        return None if issue is None or issue.deleted else issue

    def label_by_id(self, project: Project, label_id: int) -> Label | None:
        for label in project.labels.values():
            if label.id == label_id:
                return label
        return None

    # -- writes ----------------------------------------------------------------------------

    def touch(self) -> None:
        self.version += 1

    def add_label(
        self,
        project: Project,
        name: str,
        color: str = DEFAULT_LABEL_COLOR,
        description: str | None = None,
    ) -> Label:
        label = Label(self.next_label_id, name, color, description, project.id)
        self.next_label_id += 1
        project.labels[name] = label
        self.touch()
        return label

    def create_issue(
        self,
        project: Project,
        *,
        title: str,
        description: str | None,
        labels: list[str],
        author_id: int,
        state: str = "opened",
        issue_type: str = "issue",
        created: int | None = None,
        updated: int | None = None,
    ) -> Issue:
        now = self.clock.now()
        for name in labels:
            if name not in project.labels:
                self.add_label(project, name)
        issue = Issue(
            id=self.next_issue_id,
            iid=project.next_iid,
            project_id=project.id,
            title=title,
            description=description,
            labels=sorted(set(labels)),
            created=created if created is not None else now,
            updated=updated if updated is not None else (created if created is not None else now),
            author_id=author_id,
            issue_type=issue_type,
        )
        self.next_issue_id += 1
        project.next_iid += 1
        if state == "closed":
            issue.state = "closed"
            issue.closed = issue.updated
            issue.closed_by = author_id
        self.issues[issue.id] = issue
        project.issue_ids.append(issue.id)
        project.by_iid[issue.iid] = issue.id
        self.touch()
        return issue

    def set_state(self, issue: Issue, state: str, user_id: int) -> bool:
        """Open or close; False when it already was (a 200 no-op, no event)."""
        if issue.state == state:
            return False
        now = self.clock.now()
        issue.state = state
        issue.closed = now if state == "closed" else None
        issue.closed_by = user_id if state == "closed" else None
        issue.updated = now
        event_state = "closed" if state == "closed" else "reopened"
        self._event(issue, user_id, state=event_state)
        self.touch()
        return True

    def set_labels(
        self, issue: Issue, wanted: list[str], user_id: int, *, added_order: list[str]
    ) -> None:
        """Replace the label set, creating missing labels; scoped exclusivity when enabled."""
        project = self.projects[issue.project_id]
        result = list(dict.fromkeys(wanted))
        if self.config.scoped_labels:
            result = self._exclusive_scopes(issue.labels, result, added_order)
        for name in result:
            if name not in project.labels:
                self.add_label(project, name)
        before, after = set(issue.labels), set(result)
        if before == after:
            return
        for name in sorted(after - before):
            self._event(issue, user_id, label_id=project.labels[name].id, action="add")
        for name in sorted(before - after):
            label = project.labels.get(name)
            if label is not None:
                self._event(issue, user_id, label_id=label.id, action="remove")
        issue.labels = sorted(after)
        issue.updated = self.clock.now()
        self.touch()

    @staticmethod
    def _exclusive_scopes(
        current: list[str], result: list[str], added_order: list[str]
    ) -> list[str]:
        """Premium rule: a scope that a change fills twice keeps the label selected last."""
        newly = [n for n in added_order if n in result and n not in current]
        for name in newly:
            scope = scope_of(name)
            if scope is None:
                continue
            keep = [n for n in newly if scope_of(n) == scope][-1]
            result = [n for n in result if scope_of(n) != scope or n == keep]
        return result

    def add_note(
        self, issue: Issue, body: str, author_id: int, *, system: bool = False, touch: bool = True
    ) -> Note:
        now = self.clock.now()
        note = Note(
            id=self.next_note_id,
            body=body,
            author_id=author_id,
            created=now,
            updated=now,
            system=system,
            issue_id=issue.id,
            project_id=issue.project_id,
            iid=issue.iid,
        )
        self.next_note_id += 1
        if issue.notes is None:
            issue.notes = []
        issue.notes.append(note)
        if touch and now - issue.updated > 60_000:
            # ThrottledTouch: a note bumps updated_at at most once a minute.
            issue.updated = now
            self.touch()
        return note

    def _event(self, issue: Issue, user_id: int, **fields: Any) -> None:
        if issue.events is None:
            issue.events = []
        issue.events.append(
            Event(self.next_event_id, user_id, self.clock.now(), issue.id, **fields)
        )
        self.next_event_id += 1

    def delete_issue(self, issue: Issue) -> None:
        issue.deleted = True
        self.touch()

    def move_issue(self, issue: Issue, target: Project, user_id: int) -> Issue:
        """A new issue in `target`; the old one closed with `moved_to_id` and a system note."""
        source = self.projects[issue.project_id]
        kept = [n for n in issue.labels if n in target.labels]
        moved = self.create_issue(
            target,
            title=issue.title,
            description=issue.description,
            labels=kept,
            author_id=issue.author_id,
            issue_type=issue.issue_type,
            created=issue.created,
            updated=self.clock.now(),
        )
        for note in issue.notes or ():
            copy = self.add_note(moved, note.body, note.author_id, system=note.system, touch=False)
            copy.created, copy.updated = note.created, note.updated
        self.add_note(
            moved, f"moved from {reference(source, issue.iid, target)}", user_id, system=True
        )
        self.add_note(
            issue, f"moved to {reference(target, moved.iid, source)}", user_id, system=True
        )
        issue.moved_to_id = moved.id
        self.set_state(issue, "closed", user_id)
        issue.updated = self.clock.now()
        self.touch()
        return moved

    # -- queries ---------------------------------------------------------------------------

    def list_issues(self, project: Project, query: IssueQuery) -> Listing:
        cached = self._cache.get((project.id, query))
        if cached is not None and cached[0] == self.version:
            return cached[1]
        matching = [
            issue
            for issue in (self.issues[i] for i in project.issue_ids)
            if not issue.deleted and _matches(issue, query)
        ]
        matching.sort(key=lambda issue: order_key(issue, query.order_by))
        listing = Listing(matching, [order_key(i, query.order_by) for i in matching])
        if len(self._cache) > 16:
            self._cache.clear()
        self._cache[(project.id, query)] = (self.version, listing)
        return listing


def reference(target: Project, iid: int, origin: Project) -> str:
    """How GitLab names `target#iid` seen from `origin` (Project#to_reference_base)."""
    if target.id == origin.id:
        return f"#{iid}"
    if target.namespace_id == origin.namespace_id:
        return f"{target.path}#{iid}"
    return f"{target.full_path}#{iid}"


def _matches(issue: Issue, query: IssueQuery) -> bool:
    if query.state != "all" and issue.state != query.state:
        return False
    if query.issue_type is not None and issue.issue_type != query.issue_type:
        return False
    if not _label_filter(issue.labels, query.labels):
        return False
    if any(name in issue.labels for name in query.not_labels):
        return False
    if query.iids and issue.iid not in query.iids:
        return False
    if query.updated_after is not None and issue.updated < query.updated_after:
        return False
    if query.updated_before is not None and issue.updated > query.updated_before:
        return False
    if query.created_after is not None and issue.created < query.created_after:
        return False
    if query.created_before is not None and issue.created > query.created_before:
        return False
    if query.search:
        fields = []
        if "title" in query.search_in:
            fields.append(issue.title.casefold())
        if "description" in query.search_in:
            fields.append((issue.description or "").casefold())
        if not all(any(term in f for f in fields) for term in fuzzy_terms(query.search)):
            return False
    return True


def _label_filter(labels: list[str], wanted: tuple[str, ...]) -> bool:
    for name in wanted:
        special = name.casefold()
        if special == "none":
            if labels:
                return False
        elif special == "any":
            if not labels:
                return False
        elif name not in labels:
            return False
    return True
