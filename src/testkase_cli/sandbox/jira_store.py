"""The Jira emulator's state: instance catalogue, configuration, issues, clock, search.

Descriptions and comment bodies are stored in the flavour's native form (an ADF document
on Cloud, a wiki-markup string on Server); `jira_render.py` turns records into JSON.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from testkase_cli.sandbox.jira_jql import (
    BoolNode,
    Clause,
    JqlError,
    Predicate,
    Query,
    compile_query,
    field_name,
    parse,
    words,
)

SANDBOX_EMAIL = "tester@example.com"
SANDBOX_TOKEN = "sandbox-token"
DEFAULT_PROJECT = "PROJ"
OTHER_PROJECT = "OTHER"
FIRST_ISSUE_ID = 10001


@dataclass(frozen=True)
class User:
    account_id: str
    name: str
    key: str
    display: str
    email: str


TESTER = User(
    "712020:5f1c0a5e-8d0b-4d6e-9d55-0c5c8f3e7a11",
    "tester",
    "JIRAUSER10000",
    "Tess Tester",
    SANDBOX_EMAIL,
)
OTHER_USER = User(
    "712020:9b2e6d40-3c1f-4b8a-a0d2-6e4f1b7c9d22",
    "dana",
    "JIRAUSER10001",
    "Dana Developer",
    "dana@example.com",
)
USERS = {u.account_id: u for u in (TESTER, OTHER_USER)}

# name -> (id, category key)
STATUSES: dict[str, tuple[str, str]] = {
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "In Review": ("10001", "indeterminate"),
    "Done": ("10002", "done"),
    "Won't Do": ("10003", "done"),
}
# category key -> (id, colour, name)
CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "blue-gray", "To Do"),
    "indeterminate": (4, "yellow", "In Progress"),
    "done": (3, "green", "Done"),
}


@dataclass(frozen=True)
class WorkflowTransition:
    id: str
    name: str
    sources: tuple[str, ...]
    to: str
    needs_resolution: bool = False


WORKFLOW = (
    WorkflowTransition("11", "Start Progress", ("To Do",), "In Progress"),
    WorkflowTransition("21", "Request Review", ("In Progress",), "In Review"),
    WorkflowTransition("31", "Stop Progress", ("In Progress",), "To Do"),
    WorkflowTransition("41", "Done", ("In Review",), "Done", needs_resolution=True),
    WorkflowTransition("51", "Back to Progress", ("In Review",), "In Progress"),
    WorkflowTransition("61", "Reopen", ("Done", "Won't Do"), "To Do"),
)

PRIORITIES = {
    "cloud": ("Highest", "High", "Medium", "Low", "Lowest"),
    "server": ("Blocker", "Critical", "Major", "Minor"),
}
DEFAULT_PRIORITY = {"cloud": "Medium", "server": "Major"}
ISSUE_TYPES = ("Story", "Task", "Bug", "Epic", "Sub-task")
RESOLUTIONS = ("Done", "Won't Do", "Duplicate", "Cannot Reproduce")


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str


@dataclass
class Config:
    time_zone: str = "Europe/Berlin"
    search_lag_s: float = 0.0
    issue_types: list[str] = field(default_factory=lambda: list(ISSUE_TYPES))
    required_fields: dict[str, str] = field(default_factory=dict)
    resolutions: list[str] = field(default_factory=lambda: list(RESOLUTIONS))
    deny: list[str] = field(default_factory=list)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


CONFIG_CHECKS: dict[str, Callable[[Any], bool]] = {
    "time_zone": lambda v: isinstance(v, str),
    "search_lag_s": lambda v: isinstance(v, int | float) and v >= 0,
    "issue_types": lambda v: _strings(v) and bool(v),
    "required_fields": lambda v: (
        isinstance(v, dict) and all(isinstance(k, str) and isinstance(n, str) for k, n in v.items())
    ),
    "resolutions": _strings,
    "deny": _strings,
}


@dataclass(slots=True, eq=False)
class Comment:
    id: int
    author: str
    body: Any
    created: int
    updated: int


@dataclass(slots=True, eq=False)
class Issue:
    id: int
    project: str
    number: int
    summary: str
    description: Any
    status: str
    priority: str | None
    labels: list[str]
    issuetype: str
    created: int
    updated: int
    reporter: str
    resolution: str | None = None
    resolved: int | None = None
    status_changed: int = 0
    comments: list[Comment] | None = None
    properties: dict[str, Any] | None = None
    deleted: bool = False
    tokens: dict[str, list[tuple[str, ...]]] | None = None

    @property
    def key(self) -> str:
        return f"{self.project}-{self.number}"

    def text_tokens(self, field: str) -> Sequence[tuple[str, ...]]:
        if self.tokens is None:
            self.tokens = {
                "summary": [words(self.summary)],
                "description": [words(plain_text(self.description))],
                "comment": [words(plain_text(c.body)) for c in self.comments or ()],
            }
        if field == "text":
            return [*self.tokens["summary"], *self.tokens["description"], *self.tokens["comment"]]
        return self.tokens[field]

    def touch(self, now: int) -> None:
        self.updated = max(now, self.updated)
        self.tokens = None


def plain_text(body: Any) -> str:
    """The text of an ADF document (blocks on their own lines) or of a wiki string."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    lines: list[str] = []

    def walk(node: Any, line: list[str]) -> None:
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "text":
            line.append(str(node.get("text", "")))
        elif kind == "hardBreak":
            line.append("\n")
        children = node.get("content") or []
        if kind in (
            "doc",
            "bulletList",
            "orderedList",
            "listItem",
            "blockquote",
            "table",
            "tableRow",
            "tableCell",
            "tableHeader",
            "panel",
        ):
            for child in children:
                walk(child, line)
            return
        if kind in ("paragraph", "heading", "codeBlock"):
            inner: list[str] = []
            for child in children:
                walk(child, inner)
            lines.append("".join(inner))
            return
        for child in children:
            walk(child, line)

    walk(body, [])
    return "\n".join(lines)


def text_to_adf(text: str) -> dict[str, Any]:
    """Plain text (blank-line separated paragraphs) as an ADF document."""
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    content: list[dict[str, Any]] = []
    for block in blocks:
        inline: list[dict[str, Any]] = []
        for index, line in enumerate(block.split("\n")):
            if index:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}


def adf_problem(doc: Any) -> str | None:
    """Why `doc` is not a valid ADF document, None when it is."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            return (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        if node["type"] == "text" and not node.get("text"):
            return "Text nodes must not be empty."
        content = node.get("content", [])
        if not isinstance(content, list):
            return (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        stack.extend(content)
    return None


class Clock:
    """Real time plus an offset the control API can move."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return int(datetime.now(UTC).timestamp() * 1000) + self.offset_ms

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)

    def set(self, when: datetime) -> None:
        real = int(datetime.now(UTC).timestamp() * 1000)
        self.offset_ms = int(when.timestamp() * 1000) - real


@dataclass
class Listing:
    """A search result: sort keys (unique, ascending) and the issue ids in that order."""

    keys: list[tuple[int, ...]]
    ids: list[int]

    def start_after(self, after: tuple[int, ...] | None) -> int:
        """Index of the first issue sorting after `after` (a page token's last key)."""
        return 0 if after is None else bisect.bisect_right(self.keys, after)


class JiraState:
    """Everything the emulated instance knows. Callers hold the App's lock."""

    def __init__(self, flavor: str) -> None:
        if flavor not in PRIORITIES:
            raise ValueError(f"unknown Jira flavour {flavor!r} (cloud or server)")
        self.flavor = flavor
        self.config = Config()
        self.clock = Clock()
        self.projects = {
            DEFAULT_PROJECT: Project("10000", DEFAULT_PROJECT, "Web Shop"),
            OTHER_PROJECT: Project("10001", OTHER_PROJECT, "Platform"),
        }
        self.issues: dict[int, Issue] = {}
        self.keys: dict[str, int] = {}
        self.counters: dict[str, int] = dict.fromkeys(self.projects, 0)
        self.next_id = FIRST_ISSUE_ID
        self.next_comment_id = 10100
        self.generation = 0
        self._cache: dict[tuple[object, int], Listing] = {}
        self._zone = ZoneInfo(self.config.time_zone)
        self._volatile = False

    # -- catalogue (jira_jql.Catalog) -------------------------------------------------

    @property
    def priorities(self) -> tuple[str, ...]:
        return PRIORITIES[self.flavor]

    def zone(self) -> ZoneInfo:
        return self._zone

    def now_ms(self) -> int:
        self._volatile = True
        return self.clock.now_ms()

    def project_key(self, value: str) -> str | None:
        for project in self.projects.values():
            if value.casefold() in (project.key.casefold(), project.name.casefold(), project.id):
                return project.key
        return None

    def issue_type(self, value: str) -> str | None:
        for index, name in enumerate(self.config.issue_types):
            if value.casefold() == name.casefold() or value == issue_type_id(index):
                return name
        return None

    def status_name(self, value: str) -> str | None:
        for name, (status_id, _) in STATUSES.items():
            if value.casefold() == name.casefold() or value == status_id:
                return name
        return None

    def status_category(self, status: str) -> str:
        return STATUSES[status][1]

    def priority_name(self, value: str) -> str | None:
        for index, name in enumerate(self.priorities, start=1):
            if value.casefold() == name.casefold() or value == str(index):
                return name
        return None

    def resolve_issue(self, value: str) -> int | None:
        issue = self.find(value)
        return issue.id if issue else None

    # -- configuration ---------------------------------------------------------------

    def configure(self, data: dict[str, Any]) -> None:
        """Apply control-API knobs; ValueError names a knob or a value that does not fit."""
        for key, value in data.items():
            check = CONFIG_CHECKS.get(key)
            if check is None:
                raise ValueError(f"unknown config key {key!r}; known: {', '.join(CONFIG_CHECKS)}")
            if not check(value):
                raise ValueError(f"invalid value for {key!r}: {value!r}")
        if "time_zone" in data:
            try:
                zone = ZoneInfo(str(data["time_zone"]))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {data['time_zone']!r}") from exc
            self._zone = zone
        for key, value in data.items():
            setattr(self.config, key, value)
        self.changed()

    def changed(self) -> None:
        self.generation += 1
        self._cache.clear()

    # -- issues ------------------------------------------------------------------------

    def find(self, id_or_key: str) -> Issue | None:
        """A live issue by id, current key or a key it had before a move."""
        issue_id = int(id_or_key) if id_or_key.isdigit() else self.keys.get(id_or_key.upper())
        issue = self.issues.get(issue_id) if issue_id is not None else None
        return issue if issue is not None and not issue.deleted else None

    def create(
        self,
        *,
        summary: str,
        project: str = DEFAULT_PROJECT,
        description: Any = None,
        status: str = "To Do",
        priority: str | None = None,
        labels: Sequence[str] = (),
        issuetype: str = "Story",
        reporter: str = TESTER.account_id,
        created: int | None = None,
        updated: int | None = None,
    ) -> Issue:
        now = self.clock.now_ms() if created is None else created
        self.counters[project] += 1
        issue = Issue(
            id=self.next_id,
            project=project,
            number=self.counters[project],
            summary=summary,
            description=description,
            status=status,
            priority=priority or DEFAULT_PRIORITY[self.flavor],
            labels=list(labels),
            issuetype=issuetype,
            created=now,
            updated=now if updated is None else updated,
            reporter=reporter,
            status_changed=now,
        )
        if STATUSES[status][1] == "done":
            issue.resolution = default_resolution(status)
            issue.resolved = issue.updated
        self.next_id += 1
        self.issues[issue.id] = issue
        self.keys[issue.key] = issue.id
        self.changed()
        return issue

    def set_status(self, issue: Issue, status: str, resolution: str | None, now: int) -> None:
        issue.status = status
        issue.status_changed = now
        if STATUSES[status][1] == "done":
            issue.resolution = resolution or default_resolution(status)
            issue.resolved = now
        else:
            issue.resolution = None
            issue.resolved = None
        issue.touch(now)
        self.changed()

    def add_comment(self, issue: Issue, body: Any, author: str) -> Comment:
        now = self.clock.now_ms()
        comment = Comment(self.next_comment_id, author, body, now, now)
        self.next_comment_id += 1
        if issue.comments is None:
            issue.comments = []
        issue.comments.append(comment)
        issue.touch(now)
        self.changed()
        return comment

    def move(self, issue: Issue, project: str) -> None:
        self.counters[project] += 1
        issue.project = project
        issue.number = self.counters[project]
        self.keys[issue.key] = issue.id
        issue.touch(self.clock.now_ms())
        self.changed()

    def delete(self, issue: Issue) -> None:
        issue.deleted = True
        self.changed()

    def transitions_from(self, status: str) -> list[WorkflowTransition]:
        return [t for t in WORKFLOW if status in t.sources]

    # -- search ------------------------------------------------------------------------

    def listing(self, jql: str, *, reconcile: frozenset[int] = frozenset()) -> Listing:
        """Issues matching `jql`, sorted; Cloud's search-index lag hides recent changes."""
        lag_ms = int(self.config.search_lag_s * 1000) if self.flavor == "cloud" else 0
        cache_key: tuple[object, int] = (jql, self.generation)
        cached = self._cache.get(cache_key) if lag_ms <= 0 else None
        if cached is not None:
            return cached
        query = parse(jql)
        bounded = _id_range(query) if lag_ms <= 0 else None
        if bounded is not None:
            # `<filter> AND id > X ORDER BY id ASC`, as a client reads a large result page
            # by page: the filter's listing cut after X (Jira's index serves this cheaply).
            rest, field, after = bounded
            anchor = self.resolve_issue(after)
            if anchor is None:
                raise JqlError(f"An issue with key '{after}' does not exist for field '{field}'.")
            whole = self._cache.get((rest, self.generation))
            if whole is None:
                whole = self._evaluate(rest, 0, reconcile)
                if not self._volatile:
                    self._remember((rest, self.generation), whole)
            start = bisect.bisect_right(whole.ids, anchor)
            return Listing(whole.keys[start:], whole.ids[start:])
        listing = self._evaluate(query, lag_ms, reconcile)
        if lag_ms <= 0 and not self._volatile:
            self._remember(cache_key, listing)
        return listing

    def _remember(self, key: tuple[object, int], listing: Listing) -> None:
        if len(self._cache) > 16:
            self._cache.clear()
        self._cache[key] = listing

    def _evaluate(self, query: Query, lag_ms: int, reconcile: frozenset[int]) -> Listing:
        self._volatile = False
        predicate = compile_query(query, self)
        sort_key = self._sort_key(query.order)
        horizon = self.clock.now_ms() - lag_ms
        rows = sorted(
            (sort_key(issue), issue.id)
            for issue in self._candidates(predicate)
            if lag_ms <= 0 or issue.updated <= horizon or issue.id in reconcile
        )
        return Listing([key for key, _ in rows], [issue_id for _, issue_id in rows])

    def _candidates(self, predicate: Predicate | None) -> Iterator[Issue]:
        for issue in self.issues.values():
            if not issue.deleted and (predicate is None or predicate(issue)):
                yield issue

    def _sort_key(self, order: tuple[tuple[str, bool], ...]) -> Callable[[Issue], tuple[int, ...]]:
        ranks = {key: rank for rank, key in enumerate(sorted(self.projects))}
        getters: dict[str, Callable[[Issue], int]] = {
            "updated": lambda i: i.updated,
            "created": lambda i: i.created,
            "id": lambda i: i.id,
            "key": lambda i: ranks[i.project] * 1_000_000_000 + i.number,
        }
        parts = [(getters[field_name(name)], asc) for name, asc in order] or [
            (getters["key"], False)
        ]
        if not any(field_name(name) == "id" for name, _ in order):
            parts.append((getters["id"], True))

        def key(issue: Issue) -> tuple[int, ...]:
            return tuple(get(issue) if asc else -get(issue) for get, asc in parts)

        return key


def default_resolution(status: str) -> str:
    """The resolution a done status gets when nobody chose one (control API, seed)."""
    return "Won't Do" if status == "Won't Do" else "Done"


def issue_type_id(index: int) -> str:
    return str(10001 + index)


def _id_range(query: Query) -> tuple[Query, str, str] | None:
    """For `<filter> AND id > X ORDER BY id ASC`: the query without the bound, the field
    as written, and X."""
    where = query.where
    if [(field_name(name), asc) for name, asc in query.order] != [("id", True)]:
        return None
    if not isinstance(where, BoolNode) or where.op != "and":
        return None
    for index, child in enumerate(where.children):
        if (
            isinstance(child, Clause)
            and field_name(child.field) == "key"
            and child.operator == ">"
            and child.values is not None
            and len(child.values) == 1
            and not child.is_list
            and child.function is None
        ):
            rest = where.children[:index] + where.children[index + 1 :]
            node = rest[0] if len(rest) == 1 else BoolNode("and", rest)
            return Query(node, query.order), child.field, child.values[0]
    return None
