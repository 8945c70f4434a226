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
        content = list(body.get("content") or [])
        marker = None
        if content and isinstance(content[-1], dict) and content[-1].get("type") == "paragraph":
            text = "".join(
                str(node.get("text", ""))
                for node in content[-1].get("content") or []
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


def parse_time(raw: Any) -> datetime:
    """Jira's `2021-08-11T13:19:06.887+0300` (user's offset) as an aware UTC datetime."""
    if not isinstance(raw, str) or not raw:
        return datetime.fromtimestamp(0, UTC)
    return datetime.fromisoformat(raw).astimezone(UTC)


def property_marker(data: dict[str, Any]) -> str | None:
    """The marker in the issue's `testkase` property, when it was read inline."""
    stored = (data.get("properties") or {}).get(MARKER_PROPERTY)
    if isinstance(stored, dict) and isinstance(stored.get("marker"), str):
        return str(stored["marker"])
    return None


def issue_from_json(data: dict[str, Any], *, codec: Codec, site: str) -> RemoteIssue:
    """`marker` comes from the description's marker line, else from the property."""
    fields = data.get("fields") or {}
    description, marker = codec.to_markdown(fields.get("description"))
    status = fields.get("status") or {}
    comments = fields.get("comment")
    key = str(data.get("key", ""))
    return RemoteIssue(
        id=str(data["id"]),
        ref=str(data["id"]),
        key=key,
        url=f"{site}/browse/{key}",
        title=str(fields.get("summary") or ""),
        description=description,
        status=str(status.get("name", "")),
        updated=parse_time(fields.get("updated")),
        created=parse_time(fields.get("created")),
        status_category=(status.get("statusCategory") or {}).get("key"),
        priority=(fields.get("priority") or {}).get("name"),
        labels=tuple(str(label) for label in fields.get("labels") or ()),
        marker=marker or property_marker(data),
        comment_count=comments.get("total") if isinstance(comments, dict) else None,
    )


def comment_from_json(data: dict[str, Any], *, codec: Codec) -> RemoteComment:
    body, marker = codec.to_markdown(data.get("body"))
    author = data.get("author") or {}
    return RemoteComment(
        id=str(data["id"]),
        body=body,
        author=str(author.get("displayName") or author.get("name") or ""),
        created=parse_time(data.get("created")),
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
