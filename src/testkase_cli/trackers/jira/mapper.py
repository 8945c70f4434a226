"""Jira JSON -> domain: issues, comments, timestamps, markers, and priority levels.

Rich text goes through the shared converters (ADF on Cloud, wiki markup on Server). The
testkase marker is the last line `testkase-marker: <marker>` of a description or comment:
it is split off the native body before conversion, so Markdown escaping never touches it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from testkase_cli.domain.markup.adf import adf_to_markdown, markdown_to_adf
from testkase_cli.domain.markup.wiki import markdown_to_wiki, wiki_to_markdown
from testkase_cli.domain.models import DefectPriority, RemoteComment, RemoteIssue
from testkase_cli.errors import UnreachableError

MARKER_PREFIX = "testkase-marker: "
MARKER_LINE = re.compile(r"testkase-marker:\s*(\S+)")
MARKER_PROPERTY = "testkase"
ISSUE_FIELDS = (
    "summary",
    "description",
    "status",
    "priority",
    "labels",
    "updated",
    "created",
    "comment",
)

# Conventional rank of Jira priority names (0 = most severe), both default schemes.
NAME_RANK = {
    "highest": 0,
    "blocker": 0,
    "high": 1,
    "critical": 1,
    "medium": 2,
    "major": 2,
    "low": 3,
    "minor": 3,
    "lowest": 4,
    "trivial": 4,
}
CLOUD_NAME = {
    DefectPriority.BLOCKER: "Highest",
    DefectPriority.CRITICAL: "High",
    DefectPriority.MAJOR: "Medium",
    DefectPriority.MINOR: "Low",
    DefectPriority.TRIVIAL: "Lowest",
}
_WIKI_SPECIAL = re.compile(r"([*_+^~{}\[\]|!?#\\])")


class Codec(Protocol):
    """Markdown <-> the deployment's rich text, with the marker as the last line."""

    def to_markdown(self, body: Any) -> tuple[str, str | None]:
        """(Markdown without the marker line, the marker or None)."""

    def from_markdown(self, text: str, marker: str | None) -> Any:
        """The native body for `text`, with the marker line appended when given."""


class AdfCodec:
    """Jira Cloud v3: Atlassian Document Format."""

    def to_markdown(self, body: Any) -> tuple[str, str | None]:
        if not isinstance(body, dict):
            return ("" if body is None else str(body)), None
        content = _list(body.get("content"))
        marker = None
        if content and isinstance(content[-1], dict) and content[-1].get("type") == "paragraph":
            text = "".join(
                str(node.get("text", ""))
                for node in _list(content[-1].get("content"))
                if isinstance(node, dict) and node.get("type") == "text"
            )
            found = MARKER_LINE.fullmatch(text.strip())
            if found:
                marker = found[1]
                content.pop()
        if not content:
            return "", marker
        return adf_to_markdown({**body, "content": content}), marker

    def from_markdown(self, text: str, marker: str | None) -> dict[str, Any]:
        doc: dict[str, Any] = markdown_to_adf(text)
        if marker:
            line = {"type": "text", "text": MARKER_PREFIX + marker}
            doc["content"].append({"type": "paragraph", "content": [line]})
        return doc


class WikiCodec:
    """Jira Server / Data Center v2: wiki markup strings."""

    def to_markdown(self, body: Any) -> tuple[str, str | None]:
        text = body if isinstance(body, str) else ""
        lines = text.rstrip().split("\n")
        found = MARKER_LINE.fullmatch(re.sub(r"\\(.)", r"\1", lines[-1].strip()))
        marker = None
        if found:
            marker = found[1]
            text = "\n".join(lines[:-1]).rstrip()
        return (wiki_to_markdown(text) if text.strip() else ""), marker

    def from_markdown(self, text: str, marker: str | None) -> str:
        wiki = markdown_to_wiki(text) if text.strip() else ""
        if not marker:
            return wiki
        line = MARKER_PREFIX + _WIKI_SPECIAL.sub(r"\\\1", marker)
        return f"{wiki}\n\n{line}" if wiki else line


def malformed(what: str, problem: str) -> UnreachableError:
    """A Jira answer testkase cannot read (a proxy, a plugin, a changed API)."""
    return UnreachableError(
        f"Jira sent {what} testkase cannot read: {problem}",
        hint="nothing was changed; if it persists, check for a proxy in front of Jira "
        "and report the response to the testkase maintainers",
        code="malformed_response",
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _id(data: Any, what: str) -> str:
    """The object's `id`: required, a non-empty string or a whole number."""
    if not isinstance(data, dict):
        raise malformed(what, f"a JSON {type(data).__name__} instead of an object")
    value = data.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise malformed(what, f"no usable id ({value!r})")
    return str(value).strip()


def parse_time(raw: Any, what: str = "a timestamp") -> datetime:
    """Jira's `2021-08-11T13:19:06.887+0300` (user's offset) as an aware UTC datetime."""
    if not isinstance(raw, str) or not raw:
        return datetime.fromtimestamp(0, UTC)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise malformed(what, f"{raw[:40]!r} is not a timestamp") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def property_marker(data: dict[str, Any]) -> str | None:
    """The marker in the issue's `testkase` property, when it was read inline."""
    stored = _dict(data.get("properties")).get(MARKER_PROPERTY)
    if isinstance(stored, dict) and isinstance(stored.get("marker"), str):
        return str(stored["marker"])
    return None


def _comment_count(comments: Any) -> int | None:
    total = _dict(comments).get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def issue_from_json(data: dict[str, Any], *, codec: Codec, site: str) -> RemoteIssue:
    """`marker` comes from the description's marker line, else from the property.

    Fields of the wrong type are read as absent; an issue without an id, or with a
    timestamp that is not one, raises `malformed` (a KaseError)."""
    issue_id = _id(data, "an issue")
    fields = _dict(data.get("fields"))
    description, marker = codec.to_markdown(fields.get("description"))
    status = _dict(fields.get("status"))
    key = data.get("key")
    key = str(key) if isinstance(key, str | int) and not isinstance(key, bool) else ""
    summary = fields.get("summary")
    return RemoteIssue(
        id=issue_id,
        ref=issue_id,
        key=key,
        url=f"{site}/browse/{key}",
        title=summary if isinstance(summary, str) else "",
        description=description,
        status=_optional_str(status.get("name")) or "",
        updated=parse_time(fields.get("updated"), f"issue {issue_id}"),
        created=parse_time(fields.get("created"), f"issue {issue_id}"),
        status_category=_optional_str(_dict(status.get("statusCategory")).get("key")),
        priority=_optional_str(_dict(fields.get("priority")).get("name")),
        labels=tuple(label for label in _list(fields.get("labels")) if isinstance(label, str)),
        marker=marker or property_marker(data),
        comment_count=_comment_count(fields.get("comment")),
    )


def comment_from_json(data: dict[str, Any], *, codec: Codec) -> RemoteComment:
    comment_id = _id(data, "a comment")
    body, marker = codec.to_markdown(data.get("body"))
    author = _dict(data.get("author"))
    name = _optional_str(author.get("displayName")) or _optional_str(author.get("name"))
    return RemoteComment(
        id=comment_id,
        body=body,
        author=name or "",
        created=parse_time(data.get("created"), f"comment {comment_id}"),
        marker=marker,
    )


def closest_levels(names: Sequence[str]) -> dict[DefectPriority, str]:
    """Each defect priority -> the closest priority this instance offers.

    `names` are the instance's priorities, most severe first. A level with the defect's own
    name or its Cloud counterpart (Blocker -> Highest, ...) wins; otherwise the nearest by
    conventional rank, ties going to the more severe; unknown names map by position.
    """
    if not names:
        return {}
    by_name = {name.casefold(): name for name in names}
    ranked = [(NAME_RANK[n.casefold()], n) for n in names if n.casefold() in NAME_RANK]
    mapping: dict[DefectPriority, str] = {}
    for rank, level in enumerate(DefectPriority):
        exact = by_name.get(level.value.casefold()) or by_name.get(CLOUD_NAME[level].casefold())
        if exact is not None:
            mapping[level] = exact
        elif len(ranked) == len(names):
            mapping[level] = min(ranked, key=lambda item: (abs(item[0] - rank), item[0]))[1]
        else:
            mapping[level] = names[round(rank * (len(names) - 1) / (len(DefectPriority) - 1))]
    return mapping
