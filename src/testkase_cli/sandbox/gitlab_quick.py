"""Quick actions as GitLab runs them in note bodies and issue descriptions.

A command is a line that starts (column 0) with `/name` for a known name, in any case,
outside a closed ``` block (Gitlab::QuickActions::Extractor). Commands are removed from
the text and executed; unknown `/words` stay as text. Only the commands a synced
comment could plausibly carry are emulated: close, reopen, label, unlabel, relabel, title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_COMMAND = re.compile(r"^/(?P<name>[a-z_]+)(?:[ ](?P<arg>.*?))?\s*$", re.IGNORECASE)
_LABEL_ARG = re.compile(r'~"([^"]+)"|~(\S+)|(\S+)')
KNOWN = frozenset(
    {"close", "reopen", "label", "labels", "unlabel", "remove_label", "relabel", "title"}
)


@dataclass
class Commands:
    text: str
    commands: list[tuple[str, str]] = field(default_factory=list)


def extract(text: str) -> Commands:
    """Split `text` into what stays and the commands it carries."""
    kept: list[str] = []
    found: list[tuple[str, str]] = []
    lines = text.splitlines(keepends=True)
    code = _code_blocks(lines)
    for index, line in enumerate(lines):
        match = None if index in code else _COMMAND.match(line.rstrip("\r\n"))
        if match and match["name"].lower() in KNOWN:
            found.append((match["name"].lower(), (match["arg"] or "").strip()))
            continue
        kept.append(line)
    return Commands("".join(kept).strip("\n") if found else text, found)


def _code_blocks(lines: list[str]) -> set[int]:
    """Lines of ``` blocks (`^```.+?\n```$`): closed by a line that is exactly ```."""
    inside: set[int] = set()
    start: int | None = None
    for index, line in enumerate(lines):
        if start is None and line.startswith("```"):
            start = index
        elif start is not None and line.rstrip("\r\n") == "```":
            inside.update(range(start, index + 1))
            start = None
    return inside


def label_names(arg: str) -> list[str]:
    return [a or b or c for a, b, c in _LABEL_ARG.findall(arg)]


@dataclass
class Effect:
    """What the commands ask for, in the shape of the API's `commands_changes`."""

    changes: dict[str, Any] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    state: str | None = None
    title: str | None = None
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    replace: list[str] | None = None


def plan(commands: list[tuple[str, str]], existing: dict[str, int], current: list[str]) -> Effect:
    """Resolve commands against the project's labels (`name -> id`); unknown labels skip."""
    effect = Effect()
    for name, arg in commands:
        if name == "close":
            effect.state = "closed"
            effect.changes["state_event"] = "close"
            effect.summary.append("Closed this issue.")
        elif name == "reopen":
            effect.state = "opened"
            effect.changes["state_event"] = "reopen"
            effect.summary.append("Reopened this issue.")
        elif name == "title" and arg:
            effect.title = arg
            effect.changes["title"] = arg
            effect.summary.append(f'Changed the title to "{arg}".')
        elif name in ("label", "labels"):
            names = [n for n in label_names(arg) if n in existing]
            if names:
                effect.add.extend(names)
                effect.changes["add_label_ids"] = [existing[n] for n in effect.add]
                effect.summary.append(f"Added {_refs(names)} {_noun(names)}.")
        elif name in ("unlabel", "remove_label"):
            names = [n for n in label_names(arg) if n in existing] if arg else list(current)
            if names:
                effect.remove.extend(names)
                effect.changes["remove_label_ids"] = [existing[n] for n in effect.remove]
                effect.summary.append(f"Removed {_refs(names)} {_noun(names)}.")
        elif name == "relabel":
            names = [n for n in label_names(arg) if n in existing]
            if names:
                effect.replace = names
                effect.changes["label_ids"] = [existing[n] for n in names]
                effect.summary.append(f"Replaced all labels with {_refs(names)} {_noun(names)}.")
    return effect


def _refs(names: list[str]) -> str:
    return " ".join(f'~"{n}"' if " " in n or "::" in n else f"~{n}" for n in names)


def _noun(names: list[str]) -> str:
    return "label" if len(names) == 1 else "labels"
