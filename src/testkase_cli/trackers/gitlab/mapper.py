"""GitLab JSON -> domain objects, and the text testkase sends to GitLab.

Pure functions: no HTTP. Text sent to GitLab never runs quick actions: a line starting
with `/` (outside a ``` fence, where GitLab skips commands anyway) gets a Markdown
backslash escape, `\\/close`, which renders as `/close` and no longer matches the
quick-action extractor (`^/command` at column 0). Reading back undoes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from testkase_cli.domain.models import DefectPriority, RemoteComment, RemoteIssue, RemoteProject
from testkase_cli.errors import UnreachableError

PRIORITY_SCOPE = "priority"
PRIORITY_LABELS: dict[DefectPriority, str] = {
    DefectPriority.BLOCKER: "priority::critical",
    DefectPriority.CRITICAL: "priority::high",
    DefectPriority.MAJOR: "priority::medium",
    DefectPriority.MINOR: "priority::low",
    DefectPriority.TRIVIAL: "priority::low",
}
PRIORITY_RANK = ("critical", "high", "medium", "low")
LABEL_COLORS = {
    "priority::critical": "#CC0000",
    "priority::high": "#FC9403",
    "priority::medium": "#F0AD4E",
    "priority::low": "#8FBC8F",
}

_MARKER_LINE = re.compile(r"^<!-- testkase-marker: (?P<marker>.+?) -->[ \t]*\r?$", re.MULTILINE)


def marker_line(marker: str) -> str:
    return f"<!-- testkase-marker: {marker} -->"


def escape_commands(text: str) -> str:
    """Backslash-escape every line that GitLab would read as a quick action."""
    return _map_lines(text, lambda line: "\\" + line if line.startswith("/") else line)


def unescape_commands(text: str) -> str:
    if "\\/" not in text:  # the common case, and no line can start with it
        return text
    return _map_lines(text, lambda line: line[1:] if line.startswith("\\/") else line)


def _map_lines(text: str, change: Callable[[str], str]) -> str:
    lines = text.splitlines(keepends=True)
    fenced = fenced_lines(lines)
    return "".join(line if i in fenced else change(line) for i, line in enumerate(lines))


def fenced_lines(lines: list[str]) -> set[int]:
    """Indexes of lines inside ``` blocks as GitLab's extractor sees them (`^```.+?\n```$`):
    an opening line starting with ``` and a later line that is exactly ```. An unclosed
    fence protects nothing, so its lines are escaped like any other."""
    inside: set[int] = set()
    index = 0
    while index < len(lines):
        if lines[index].startswith("```"):
            close = next(
                (j for j in range(index + 1, len(lines)) if lines[j].rstrip("\r\n") == "```"),
                None,
            )
            if close is not None:
                inside.update(range(index, close + 1))
                index = close + 1
                continue
        index += 1
    return inside


def compose(body: str, marker: str) -> str:
    """Markdown to send: escaped body, a blank line, the marker as an HTML comment."""
    text = escape_commands(body.rstrip())
    return f"{text}\n\n{marker_line(marker)}" if text else marker_line(marker)


def split_marker(text: str | None) -> tuple[str, str | None]:
    """(body without the marker line, unescaped; the marker or None)."""
    if not text or not isinstance(text, str):
        return "", None
    matches = list(_MARKER_LINE.finditer(text))
    if not matches:
        return unescape_commands(text), None
    last = matches[-1]
    body = text[: last.start()] + text[last.end() :]
    return unescape_commands(body).rstrip(), last["marker"].strip()


def malformed(what: str, problem: str) -> UnreachableError:
    """A GitLab answer testkase cannot read (a proxy, a changed API)."""
    return UnreachableError(
        f"GitLab sent {what} testkase cannot read: {problem}",
        hint="nothing was changed; if it persists, check for a proxy in front of GitLab "
        "and report the response to the testkase maintainers",
        code="malformed_response",
    )


def _whole(data: dict[str, Any], key: str, what: str) -> int:
    """A required whole number (GitLab ids), given as a number or a string of digits."""
    value = data.get(key)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise malformed(what, f"{key} is {value!r}, not a whole number")
    return value


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise malformed(what, f"a JSON {type(data).__name__} instead of an object")
    return data


def _time(data: dict[str, Any], key: str, what: str) -> datetime:
    raw = data.get(key)
    if not isinstance(raw, str):
        raise malformed(what, f"{key} is {raw!r}, not a timestamp")
    try:
        return parse_time(raw)
    except ValueError as exc:
        raise malformed(what, f"{key} {raw[:40]!r} is not a timestamp") from exc


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_time(raw: str) -> datetime:
    """GitLab timestamps (`...Z`, `...+02:00`, webhook `... UTC`) as aware UTC datetimes."""
    text = raw.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_since(moment: datetime) -> str:
    """`updated_after` value: UTC, whole seconds floored (GitLab's Link URLs drop the
    fraction anyway, so every page then filters alike; the window only widens)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_priority_label(name: str) -> bool:
    scope, sep, _ = name.rpartition("::")
    return bool(sep) and scope == PRIORITY_SCOPE


def priority_of(labels: list[str] | tuple[str, ...]) -> str | None:
    """The value of the `priority::` label; with several, the highest (unknown values last,
    alphabetically), so the choice is deterministic on instances where scopes don't exclude."""
    values = [name.rpartition("::")[2] for name in labels if is_priority_label(name)]
    if not values:
        return None
    return min(
        values,
        key=lambda v: (PRIORITY_RANK.index(v) if v in PRIORITY_RANK else len(PRIORITY_RANK), v),
    )


def to_issue(data: dict[str, Any]) -> RemoteIssue:
    """Fields of the wrong type are read as absent; a missing or unusable id, project id,
    iid or timestamp raises `malformed` (a KaseError)."""
    data = _object(data, "an issue")
    issue_id = _whole(data, "id", "an issue")
    what = f"issue {issue_id}"
    project_id, iid = _whole(data, "project_id", what), _whole(data, "iid", what)
    description, marker = split_marker(data.get("description"))
    raw_labels = data.get("labels")
    labels = (
        tuple(n for n in raw_labels if isinstance(n, str)) if isinstance(raw_labels, list) else ()
    )
    references = data.get("references")
    full = references.get("full") if isinstance(references, dict) else None
    moved_to = data.get("moved_to_id")
    count = data.get("user_notes_count")
    return RemoteIssue(
        id=str(issue_id),
        ref=f"{project_id}:{iid}",
        key=full if isinstance(full, str) and full else f"{project_id}#{iid}",
        url=_text(data.get("web_url")),
        title=_text(data.get("title")),
        description=description,
        status=_text(data.get("state")) or "opened",
        updated=_time(data, "updated_at", what),
        created=_time(data, "created_at", what),
        priority=priority_of(labels),
        labels=labels,
        moved_to_id=None if moved_to is None else str(_whole(data, "moved_to_id", what)),
        marker=marker,
        comment_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
    )


def to_comment(note: dict[str, Any]) -> RemoteComment:
    note = _object(note, "a note")
    note_id = _whole(note, "id", "a note")
    body, marker = split_marker(note.get("body"))
    author = note.get("author")
    author = author if isinstance(author, dict) else {}
    return RemoteComment(
        id=str(note_id),
        body=body,
        author=_text(author.get("name")) or _text(author.get("username")),
        created=_time(note, "created_at", f"note {note_id}"),
        marker=marker,
    )


def to_project(data: dict[str, Any]) -> RemoteProject:
    return RemoteProject(
        key=str(data.get("path_with_namespace") or data["id"]),
        name=str(data.get("name_with_namespace") or data.get("name") or ""),
        id=str(data["id"]),
    )


_MOVED_TO = re.compile(r"^moved to (?P<path>[^\s#]*)#(?P<iid>\d+)\s*$")


def moved_target(body: str, origin_path: str) -> tuple[str, int] | None:
    """(project full path, iid) from a `moved to ...` system note seen on `origin_path`.

    GitLab writes the target as seen from the old project (Project#to_reference_base):
    the full path across namespaces, the bare project path within the same namespace."""
    match = _MOVED_TO.match(body.strip())
    if match is None or not match["path"]:
        return None
    path = match["path"]
    if "/" not in path:
        namespace = origin_path.rpartition("/")[0]
        path = f"{namespace}/{path}" if namespace else path
    return path, int(match["iid"])
