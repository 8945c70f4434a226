"""Atlassian Document Format (Jira Cloud REST v3 rich text) <-> Markdown.

``markdown_to_adf`` parses CommonMark (plus GFM tables and strikethrough) with markdown-it-py
and emits schema-valid ADF. ``adf_to_markdown`` renders any ADF-shaped value, degrading what
Markdown cannot hold, and never raises: unknown nodes become their text, and hostile input
(wrong types, cycles, huge or deep trees) is bounded by a depth limit and a node budget.

Markdown is written in one canonical form (``**strong**``, ``*em*``, ``~~strike~~``, ``-``
bullets, fenced code, ``---`` rules, ``\\`` hard breaks, minimal escaping), so
``adf_to_markdown(markdown_to_adf(md))`` gives back ``md`` when ``md`` is already canonical.

The inline layout (ADF inline nodes -> atoms -> pieces with balanced mark delimiters) is shared
with :mod:`testkase_cli.domain.markup.wiki`; only the two public functions are API.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from markdown_it import MarkdownIt
    from markdown_it.token import Token

__all__ = ["adf_to_markdown", "markdown_to_adf"]

Node = dict[str, Any]

MAX_DEPTH = 48
"""Nesting deeper than this is flattened to plain text."""
MAX_NODES = 200_000
"""Work budget per conversion: nodes beyond it are ignored (cycles, giant trees)."""

SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
"""CommonMark whitespace: what delimiter flanking treats as space."""
TRIM = SPACE + "\u2028\u2029"
"""What markdown-it trims from the edges of a paragraph, heading or table cell."""

MARK_ORDER = {"link": 0, "strong": 1, "em": 2, "strike": 3, "underline": 4}
"""Nesting preference when two marks span exactly the same text: outermost first."""

BLOCK_TYPES = frozenset(
    {
        "doc", "paragraph", "heading", "bulletList", "orderedList", "listItem", "codeBlock",
        "blockquote", "rule", "panel", "table", "tableRow", "tableHeader", "tableCell",
        "mediaSingle", "mediaGroup", "expand", "nestedExpand", "taskList", "taskItem",
        "decisionList", "decisionItem", "blockCard", "embedCard", "layoutSection",
        "layoutColumn", "bodiedExtension", "extension", "multiBodiedExtension", "extensionFrame",
    }
)  # fmt: skip
INLINE_TYPES = frozenset(
    {
        "text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status", "mediaInline",
        "placeholder", "inlineExtension",
    }
)  # fmt: skip

_PANEL_LABELS = {"info": "Info", "note": "Note", "warning": "Warning", "success": "Success",
                 "error": "Error", "tip": "Tip"}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Tolerant accessors (any value in, well-typed value out)


class Walk:
    """Work budget and current path of one conversion; bounds huge, deep or cyclic input."""

    __slots__ = ("left", "path")

    def __init__(self) -> None:
        self.left = MAX_NODES
        self.path: set[int] = set()

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0

    def enter(self, node: Any) -> bool:
        """Mark ``node`` as being visited; False if it already is (a cycle)."""
        if id(node) in self.path:
            return False
        self.path.add(id(node))
        return True

    def leave(self, node: Any) -> None:
        self.path.discard(id(node))


def node_type(node: Any) -> str:
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(kind, str):
            return kind
    return ""


def children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        content = node.get("content")
        if isinstance(content, list):
            return content
    return []


def attrs(node: Any) -> dict[str, Any]:
    if isinstance(node, dict):
        found = node.get("attrs")
        if isinstance(found, dict):
            return found
    return {}


def str_attr(node: Any, key: str) -> str:
    value = attrs(node).get(key)
    return value if isinstance(value, str) else ""


def text_node(text: str, marks: list[Node] | None = None) -> Node:
    node: Node = {"type": "text", "text": text}
    if marks:
        node["marks"] = marks
    return node


def paragraph(content: list[Node] | None = None) -> Node:
    return {"type": "paragraph", "content": content or []}


def attachment_label(node: Any) -> str:
    """``[attachment: name]`` for a media node: its alt text, URL or id, whichever exists."""
    for key in ("alt", "url", "id"):
        name = " ".join(str_attr(node, key).split())
        if name:
            return f"[attachment: {name}]"
    return "[attachment]"


def panel_label(panel_type: str) -> str:
    if panel_type in _PANEL_LABELS:
        return _PANEL_LABELS[panel_type]
    return panel_type[:1].upper() + panel_type[1:] if panel_type.isalnum() else "Info"


def labelled_quote(label: str, content: list[Any]) -> Node:
    """A blockquote whose first paragraph starts with ``**label:**`` (how panels degrade)."""
    lead = [text_node(f"{label}:", [{"type": "strong"}])]
    first, rest = (content[0], content[1:]) if content else (None, [])
    if node_type(first) == "paragraph":
        body = children(first)
        return {"type": "blockquote", "content": [paragraph([*lead, text_node(" "), *body]), *rest]}
    return {"type": "blockquote", "content": [paragraph(lead), *content]}


def _date_label(value: Any) -> str:
    try:
        millis = int(value)
        return datetime.fromtimestamp(millis / 1000, tz=UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def inline_label(node: Any) -> str | None:
    """Text shown for an atomic inline node (mention, emoji, ...); None for other nodes."""
    kind = node_type(node)
    if kind == "mention":
        name = str_attr(node, "text") or str_attr(node, "id") or "unknown"
        return name if name.startswith("@") else "@" + name
    if kind == "emoji":
        return str_attr(node, "shortName") or str_attr(node, "text")
    if kind == "date":
        return _date_label(attrs(node).get("timestamp"))
    if kind == "status":
        return str_attr(node, "text")
    if kind in ("media", "mediaInline"):
        return attachment_label(node)
    if kind in ("placeholder", "inlineExtension", "extension"):
        return ""
    return None


def plain_text(node: Any, walk: Walk) -> str:
    """All text under ``node``, blocks separated by newlines; iterative and budgeted."""
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack and walk.spend():
        cur, leaving = stack.pop()
        if leaving:
            walk.leave(cur)
            continue
        if isinstance(cur, list):
            stack.extend((item, False) for item in reversed(cur[:MAX_NODES]))
            continue
        kind = node_type(cur)
        if kind == "text":
            text = cur.get("text")
            parts.append(text if isinstance(text, str) else "")
            continue
        if kind == "hardBreak":
            parts.append("\n")
            continue
        label = inline_label(cur)
        if label is not None:
            parts.append(label)
            continue
        if kind in BLOCK_TYPES and parts and not parts[-1].endswith("\n"):
            parts.append("\n")
        if walk.enter(cur):
            stack.append((cur, True))
            stack.extend((item, False) for item in reversed(children(cur)[:MAX_NODES]))
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Inline layout shared by the Markdown and wiki writers


@dataclass(frozen=True, slots=True)
class Mark:
    kind: str
    href: str = ""
    title: str = ""


@dataclass(slots=True)
class Atom:
    """One inline unit: ``text``, ``code``, ``auto`` (a bare link), ``break`` or ``nl``."""

    kind: str
    text: str = ""
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True, slots=True)
class Piece:
    """Output unit: text to escape, code, auto link, break, nl, or a mark ``open``/``close``."""

    kind: str
    text: str = ""
    mark: Mark | None = None
    in_link: bool = False
    atom: int = -1  # for open/close: the atom the mark starts at, or ends at


@dataclass(slots=True)
class InlineStyle:
    """What a writer supports: mark kinds, line handling and its notion of whitespace."""

    marks: frozenset[str]
    marks_cross_newline: bool = True
    single_line: bool = False
    space: str = SPACE
    trim: str = TRIM


def read_marks(node: Any, supported: frozenset[str]) -> tuple[tuple[Mark, ...], bool]:
    """The supported marks of a text node, canonically ordered, and whether it is code."""
    raw = node.get("marks") if isinstance(node, dict) else None
    if not isinstance(raw, list):
        return (), False
    found: dict[str, Mark] = {}
    code = False
    for mark in raw[:32]:
        kind = node_type(mark)
        if kind == "code":
            code = True
        elif kind == "link":
            href = str_attr(mark, "href").strip()
            if href and "link" in supported:
                found["link"] = Mark("link", href, str_attr(mark, "title"))
        elif kind in supported and kind in MARK_ORDER:
            found[kind] = Mark(kind)
    return tuple(sorted(found.values(), key=lambda m: MARK_ORDER[m.kind])), code


def _collect(nodes: list[Any], out: list[Atom], walk: Walk, depth: int, style: InlineStyle) -> None:
    for node in nodes:
        if not walk.spend():
            return
        kind = node_type(node)
        if kind == "text":
            text = node.get("text")
            if isinstance(text, str) and text:
                marks, code = read_marks(node, style.marks)
                out.append(Atom("code" if code else "text", text, marks))
        elif kind == "hardBreak":
            out.append(Atom("break"))
        elif kind in ("inlineCard", "blockCard", "embedCard"):
            url = str_attr(node, "url")
            if url:
                link = (Mark("link", url),) if "link" in style.marks else ()
                out.append(Atom("text", url, link))
        elif (label := inline_label(node)) is not None:
            if label:
                out.append(Atom("text", label))
        elif depth >= MAX_DEPTH:
            out.append(Atom("text", plain_text(node, walk)))
        elif kids := children(node):
            if out and kind in BLOCK_TYPES:
                out.append(Atom("text", " "))
            if walk.enter(node):
                _collect(kids, out, walk, depth + 1, style)
                walk.leave(node)
        else:
            text = node.get("text") if isinstance(node, dict) else None
            out.append(Atom("text", text if isinstance(text, str) else str_attr(node, "text")))


def _split_lines(atoms: list[Atom], single_line: bool) -> list[Atom]:
    out: list[Atom] = []
    for atom in atoms:
        if atom.kind in ("text", "code"):
            text = atom.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
            if atom.kind == "code" or single_line:
                out.append(Atom(atom.kind, text.replace("\n", " "), atom.marks))
                continue
            for index, part in enumerate(text.split("\n")):
                if index:
                    out.append(Atom("nl", marks=atom.marks))
                out.append(Atom("text", part, atom.marks))
        elif atom.kind == "break" and single_line:
            out.append(Atom("text", " "))
        else:
            out.append(atom)
    return out


def _trim(atoms: list[Atom], edge: str) -> list[Atom]:
    """Strip whitespace at the edges and around line ends; drop leading/trailing/double breaks."""
    forward = _trim_side(atoms, edge, str.lstrip)
    return _trim_side(forward[::-1], edge, str.rstrip)[::-1]


def _trim_side(atoms: list[Atom], edge: str, strip: Callable[[str, str], str]) -> list[Atom]:
    """One side of `_trim`, walking `atoms` from that edge inwards."""
    kept: list[Atom] = []
    state = "edge"
    for atom in atoms:
        if atom.kind == "text":
            if state in ("edge", "line"):
                atom.text = strip(atom.text, edge if state == "edge" else " \t")
            if not atom.text:
                continue
            state = "mid"
        elif atom.kind in ("nl", "break"):
            if state == "edge" or (atom.kind == "nl" and state == "line"):
                continue
            state = "line"
        else:
            state = "mid"
        kept.append(atom)
    return kept


def _merge(atoms: list[Atom]) -> list[Atom]:
    """Join neighbouring text (or code) atoms that carry the same marks."""
    out: list[Atom] = []
    parts: list[list[str]] = []
    for atom in atoms:
        prev = out[-1] if out else None
        if prev and atom.kind in ("text", "code") and prev.kind == atom.kind:
            same = prev.marks == atom.marks
        else:
            same = False
        if same:
            parts[-1].append(atom.text)
        else:
            out.append(Atom(atom.kind, atom.text, atom.marks))
            parts.append([atom.text])
    for atom, texts in zip(out, parts, strict=True):
        atom.text = "".join(texts)
    return out


_AUTOLINK = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{1,31}:[!-~]*")
_NOT_AUTO = re.compile(r"[<>%\\]")  # markdown-it would re-encode or end the link at these


def _finish(atoms: list[Atom], style: InlineStyle) -> list[Atom]:
    """Give hard breaks the marks running through them; turn ``[url](url)`` into auto links."""
    for index, atom in enumerate(atoms):
        if atom.kind == "nl":
            atom.marks = atom.marks if style.marks_cross_newline else ()
        elif atom.kind == "break":
            before = atoms[index - 1].marks if index else ()
            after = atoms[index + 1].marks if index + 1 < len(atoms) else ()
            atom.marks = tuple(m for m in before if m in after)
        elif atom.kind == "text":
            links = [m for m in atom.marks if m.kind == "link"]
            if not links or links[0].href != atom.text or not _AUTOLINK.fullmatch(atom.text):
                continue
            if _NOT_AUTO.search(atom.text):
                continue
            near = [atoms[i] for i in (index - 1, index + 1) if 0 <= i < len(atoms)]
            if all(links[0] not in other.marks for other in near):
                atom.kind = "auto"
                atom.marks = tuple(m for m in atom.marks if m.kind != "link")
    return atoms


def _detach_spaces(atoms: list[Atom], space: str) -> list[Atom]:
    """Give edge whitespace only the marks shared with the neighbour on that side.

    This is where the writers put it (delimiters hug the text), so the atoms describe the
    output exactly and a document read back from it is laid out the same way.
    """
    out: list[Atom] = []
    for index, atom in enumerate(atoms):
        core = atom.text.strip(space) if atom.kind == "text" else ""
        if not core:
            out.append(atom)
            continue
        before = atoms[index - 1].marks if index else ()
        after = atoms[index + 1].marks if index + 1 < len(atoms) else ()
        lead = atom.text[: len(atom.text) - len(atom.text.lstrip(space))]
        trail = atom.text[len(atom.text.rstrip(space)) :]
        if lead:
            out.append(Atom("text", lead, tuple(m for m in atom.marks if m in before)))
        out.append(Atom("text", core, atom.marks))
        if trail:
            out.append(Atom("text", trail, tuple(m for m in atom.marks if m in after)))
    return _merge(out)


def inline_atoms(nodes: list[Any], walk: Walk, style: InlineStyle) -> list[Atom]:
    raw: list[Atom] = []
    _collect(nodes, raw, walk, 0, style)
    atoms = _merge(_trim(_split_lines(raw, style.single_line), style.trim))
    return _finish(_detach_spaces(atoms, style.space), style)


def _runs(atoms: list[Atom]) -> list[dict[Mark, int]]:
    runs: list[dict[Mark, int]] = [{} for _ in atoms]
    for index in range(len(atoms) - 1, -1, -1):
        after = runs[index + 1] if index + 1 < len(atoms) else {}
        runs[index] = {m: 1 + after.get(m, 0) for m in atoms[index].marks}
    return runs


def layout(atoms: list[Atom], space: str) -> list[Piece]:
    """Interleave atoms with mark open/close pieces, keeping edge whitespace outside marks."""
    runs = _runs(atoms)
    out: list[Piece] = []
    stack: list[Mark] = []
    pending = ""

    def emit(kind: str, text: str) -> None:
        if text:
            out.append(Piece(kind, text, in_link=any(m.kind == "link" for m in stack)))

    for index, atom in enumerate(atoms):
        keep = 0
        while keep < len(stack) and stack[keep] in atom.marks:
            keep += 1
        out.extend(Piece("close", mark=m, atom=index - 1) for m in reversed(stack[keep:]))
        del stack[keep:]
        if atom.kind in ("nl", "break"):
            emit("text", pending.rstrip(" \t"))
            out.append(Piece(atom.kind))
            pending = ""
            continue
        emit("text", pending)
        core = atom.text.strip(space) if atom.kind == "text" else atom.text
        if not core:
            emit("text", atom.text)
            pending = ""
            continue
        text = atom.text if atom.kind == "text" else ""
        lead = text[: len(text) - len(text.lstrip(space))]
        pending = text[len(text.rstrip(space)) :]
        emit("text", lead)
        fresh = [m for m in atom.marks if m not in stack]
        cap = min((runs[index][m] for m in stack), default=len(atoms))  # outer marks end first
        fresh.sort(key=lambda m: (-min(runs[index][m], cap), MARK_ORDER[m.kind]))
        for mark in fresh:
            out.append(Piece("open", mark=mark, atom=index))
            stack.append(mark)
        emit(atom.kind, core)
    out.extend(Piece("close", mark=m, atom=len(atoms) - 1) for m in reversed(stack))
    return out


# --------------------------------------------------------------------------------------------
# ADF -> Markdown

_MD_STYLE = frozenset({"link", "strong", "em", "strike"})
_MD_DELIM = {"strong": "**", "em": "*", "strike": "~~"}
_PUNCT = frozenset(string.punctuation)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ORDERED = re.compile(r"[0-9]{1,9}([.)])")
_LINE_START = frozenset("#>-+=|:~*_")
_THEMATIC = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")


def _space(char: str | None) -> bool:
    return char is None or char in SPACE


def _punct(char: str | None) -> bool:
    return char is not None and unicodedata.category(char).startswith(("P", "S"))


def _left_flanking(prev: str | None, nxt: str | None) -> bool:
    return not (_space(nxt) or (_punct(nxt) and not (_space(prev) or _punct(prev))))


def _right_flanking(prev: str | None, nxt: str | None) -> bool:
    return not (_space(prev) or (_punct(prev) and not (_space(nxt) or _punct(nxt))))


# The only characters _md_char_needs_escape may escape.
_MD_MAYBE_ESCAPED = re.compile(r"[\\`*_~\[\]!<|]")


def _md_char_needs_escape(c: str, p: str | None, n: str | None, in_link: bool, mode: str) -> bool:
    if c == "\\":
        return n is not None and (n in _PUNCT or n == "\n")
    if c == "`":
        return True
    if c == "*":
        return not (p is not None and n is not None and _space(p) and _space(n))
    if c == "_":
        if p is None or n is None:
            return True
        return not ((p.isalnum() and n.isalnum()) or (_space(p) and _space(n)))
    if c == "~":
        return "~" in (p, n)
    if c in "[]":
        return in_link or (c == "]" and n == "(")
    if c == "!":
        return n == "["
    if c == "<":
        return not _space(n)
    return c == "|" and mode == "cell"


def _md_forced(
    text: str, prev: str | None, nxt: str | None, line_start: bool, mode: str
) -> set[int]:
    """Positions to escape because of where they stand (line start, heading end)."""
    forced: set[int] = set()
    if line_start:
        if text[0] in _LINE_START:
            forced.add(0)
        ordered = _ORDERED.match(text)
        if ordered:
            after = text[ordered.end()] if ordered.end() < len(text) else nxt
            if after is None or after in " \t\n":
                forced.add(ordered.end() - 1)
    if mode == "heading" and nxt is None and text.endswith("#"):
        start = len(text.rstrip("#"))
        before = text[start - 1] if start else prev
        if before is None or before in " \t":
            forced.add(start)
    forced.update(m.start() for m in _ENTITY.finditer(text))
    return forced


def _md_escape(text: str, prev: str | None, nxt: str | None, piece: Piece, ctx: _InlineCtx) -> str:
    forced = _md_forced(text, prev, nxt, ctx.line_start and ctx.mode == "para", ctx.mode)
    if ctx.block_start and ctx.definition_risk and text.startswith("["):
        forced.add(0)
    for found in _MD_MAYBE_ESCAPED.finditer(text):
        index = found.start()
        before = text[index - 1] if index else prev
        after = text[index + 1] if index + 1 < len(text) else nxt
        if _md_char_needs_escape(text[index], before, after, piece.in_link, ctx.mode):
            forced.add(index)
    if not forced:
        return text
    out: list[str] = []
    last = 0
    for index in sorted(forced):
        out.append(text[last:index])
        out.append("\\")
        last = index
    out.append(text[last:])
    return "".join(out)


def _md_code(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = text[0] == "`" or text[-1] == "`" or (text[0] == text[-1] == " " and text.strip(" "))
    space = " " if pad else ""
    return f"{fence}{space}{text}{space}{fence}"


def _md_dest(href: str) -> str:
    href = re.sub(r"[\r\n]", "", href)
    depth = 0
    for char in href:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if href and depth == 0 and not re.search(r"[\s<>\\\x00-\x1f\x7f]", href):
        return href
    return "<" + re.sub(r"([<>\\])", r"\\\1", href) + ">"


def _md_link_end(mark: Mark) -> str:
    title = ""
    if mark.title:
        escaped = " ".join(mark.title.split()).replace("\\", "\\\\").replace('"', '\\"')
        title = f' "{escaped}"'
    return f"]({_md_dest(mark.href)}{title})"


def _first_char(piece: Piece) -> str:
    if piece.kind in ("open", "close") and piece.mark is not None:
        if piece.mark.kind == "link":
            return "[" if piece.kind == "open" else "]"
        return _MD_DELIM[piece.mark.kind][0]
    return {"code": "`", "auto": "<", "break": "\\", "nl": "\n"}.get(piece.kind, piece.text[:1])


@dataclass(slots=True)
class _InlineCtx:
    mode: str
    definition_risk: bool
    line_start: bool = True
    block_start: bool = True


def _md_piece(piece: Piece, prev: str | None, nxt: str | None, ctx: _InlineCtx) -> str:
    if piece.kind == "text":
        return _md_escape(piece.text, prev, nxt, piece, ctx)
    if piece.kind == "break":
        return "\\\n"
    if piece.kind == "nl":
        return "\n"
    if piece.kind == "code":
        syntax = _md_code(piece.text)
    elif piece.kind == "auto":
        syntax = f"<{piece.text}>"
    elif piece.mark is not None and piece.mark.kind == "link":
        syntax = "[" if piece.kind == "open" else _md_link_end(piece.mark)
    else:
        syntax = _MD_DELIM[piece.mark.kind] if piece.mark is not None else ""
    return syntax.replace("|", "\\|") if ctx.mode == "cell" else syntax


def _md_render(pieces: list[Piece], ctx: _InlineCtx) -> list[str]:
    out: list[str] = []
    prev: str | None = None
    for index, piece in enumerate(pieces):
        nxt = _first_char(pieces[index + 1]) if index + 1 < len(pieces) else None
        rendered = _md_piece(piece, prev, nxt or None, ctx)
        out.append(rendered)
        if rendered:
            prev = rendered[-1]
            ctx.line_start = rendered.endswith("\n")
            ctx.block_start = False
    return out


def _md_unflanked(pieces: list[Piece], rendered: list[str]) -> list[tuple[int, Mark]]:
    """Marks whose ``*``/``~~`` delimiter run CommonMark would not accept where it stands."""
    if not any(piece.mark is not None and piece.mark.kind in _MD_DELIM for piece in pieces):
        return []
    chars = [(char, index) for index, text in enumerate(rendered) for char in text]

    def is_delimiter(position: int) -> bool:
        piece = pieces[chars[position][1]]
        return piece.kind in ("open", "close") and chars[position][0] in "*~"

    bad: list[tuple[int, Mark]] = []
    start = 0
    while start < len(chars):
        if not is_delimiter(start):
            start += 1
            continue
        end = start
        while end < len(chars) and chars[end][0] == chars[start][0] and is_delimiter(end):
            end += 1
        prev = chars[start - 1][0] if start else None
        nxt = chars[end][0] if end < len(chars) else None
        for index in {chars[k][1] for k in range(start, end)}:
            piece = pieces[index]
            opens = piece.kind == "open"
            if piece.mark and not (_left_flanking if opens else _right_flanking)(prev, nxt):
                bad.append((piece.atom, piece.mark))
        start = end
    return bad


def _drop_marks(atoms: list[Atom], bad: list[tuple[int, Mark]]) -> list[Atom]:
    """Remove each (atom, mark) pair's mark from the whole run of atoms carrying it."""
    for index, mark in bad:
        low = high = index
        while low > 0 and mark in atoms[low - 1].marks:
            low -= 1
        while high + 1 < len(atoms) and mark in atoms[high + 1].marks:
            high += 1
        for atom in atoms[low : high + 1]:
            atom.marks = tuple(m for m in atom.marks if m != mark)
    return _merge(atoms)


_EMPHASIS = frozenset({"strong", "em", "strike"})
_MAX_RETRIES = 8
_UNMARKED = SPACE + "\x00"  # whitespace and hard breaks: marks on them are not compared


def _flat_atoms(atoms: list[Atom]) -> list[tuple[str, frozenset[str]]]:
    flat: list[tuple[str, frozenset[str]]] = []
    for atom in atoms:
        kinds = frozenset(m.kind for m in atom.marks)
        if atom.kind == "code":
            kinds = frozenset({"code"} | (kinds & {"link"}))
        elif atom.kind == "auto":
            kinds |= {"link"}
        text = {"nl": "\n", "break": "\x00"}.get(atom.kind, atom.text)
        flat.extend((char, frozenset() if char in _UNMARKED else kinds) for char in text)
    return flat


def _flat_adf(nodes: list[Node]) -> list[tuple[str, frozenset[str]]]:
    flat: list[tuple[str, frozenset[str]]] = []
    for node in nodes:
        kinds = frozenset(m["type"] for m in node.get("marks", []))
        text = node["text"] if node["type"] == "text" else "\x00"
        flat.extend((char, frozenset() if char in _UNMARKED else kinds) for char in text)
    return flat


def _md_faithful(markdown: str, atoms: list[Atom], mode: str) -> bool:
    """Whether markdown-it reads ``markdown`` back as ``atoms`` (text and mark kinds)."""
    if not any(m.kind in _EMPHASIS for atom in atoms for m in atom.marks):
        return True  # without emphasis, escaping alone decides and is exact
    source = {"heading": f"# {markdown}", "cell": f"| {markdown} |\n| --- |"}.get(mode, markdown)
    inline = next((t for t in _parser().parse(source) if t.type == "inline"), None)
    parsed = _inlines(inline.children or []) if inline is not None else []
    return _flat_adf(parsed) == _flat_atoms(atoms)


def _shortest_emphasis(atoms: list[Atom]) -> list[tuple[int, Mark]]:
    runs = _runs(atoms)
    spans = [
        (length, index, mark)
        for index, atom in enumerate(atoms)
        for mark, length in runs[index].items()
        if mark.kind in _EMPHASIS and (index == 0 or mark not in atoms[index - 1].marks)
    ]
    return [(index, mark) for _, index, mark in sorted(spans, key=lambda s: s[:2])[:1]]


def _md_attempt(atoms: list[Atom], mode: str, risk: bool) -> tuple[str, list[tuple[int, Mark]]]:
    pieces = layout(atoms, SPACE)
    rendered = _md_render(pieces, _InlineCtx(mode, definition_risk=risk))
    return "".join(rendered), _md_unflanked(pieces, rendered)


_PLAIN = Piece("text")
_NOT_PLAIN = re.compile("[\r\n\x00]")


def _plain_run(nodes: list[Any]) -> str | None:
    """The text of a run that is one unmarked text node on one line, without edge space."""
    if len(nodes) != 1 or not isinstance(nodes[0], dict):
        return None
    node = nodes[0]
    text = node.get("text")
    if node.get("type") != "text" or node.get("marks") or not isinstance(text, str):
        return None
    if not text or text != text.strip(TRIM) or _NOT_PLAIN.search(text):
        return None
    return text


def _md_inline(nodes: list[Any], walk: Walk, mode: str) -> str:
    """Inline Markdown for ``mode`` ``para`` (multi-line), ``heading`` or ``cell``.

    Emphasis that CommonMark cannot express where it stands (a delimiter run that would not
    flank, e.g. ``a**(b)**``, or that would pair up differently) is dropped, keeping the text.
    """
    plain = _plain_run(nodes)
    if plain is not None:  # most paragraphs: the general path below gives the same text
        risk = mode == "para" and "]:" in plain
        return _md_escape(plain, None, None, _PLAIN, _InlineCtx(mode, risk)) if walk.spend() else ""
    style = InlineStyle(_MD_STYLE, single_line=mode != "para")
    atoms = inline_atoms(nodes, walk, style)
    risk = mode == "para" and "]:" in "".join(a.text for a in atoms)
    for _ in range(_MAX_RETRIES):
        markdown, bad = _md_attempt(atoms, mode, risk)
        if not bad and _md_faithful(markdown, atoms, mode):
            return markdown
        atoms = _drop_marks(atoms, bad or _shortest_emphasis(atoms))
    for atom in atoms:
        atom.marks = tuple(m for m in atom.marks if m.kind not in _EMPHASIS)
    return _md_attempt(_merge(atoms), mode, risk)[0]


@dataclass(frozen=True, slots=True)
class _Block:
    kind: str
    text: str
    interrupts: bool = False  # a list that may follow a paragraph line without a blank line


class _MarkdownWriter:
    def __init__(self) -> None:
        self.walk = Walk()

    def blocks(self, nodes: list[Any], depth: int) -> list[_Block]:
        out: list[_Block] = []
        inline_run: list[Any] = []
        for node in [*nodes, None]:
            if node is not None and node_type(node) in INLINE_TYPES:
                inline_run.append(node)
                continue
            if inline_run:
                out.append(_Block("paragraph", _md_inline(inline_run, self.walk, "para")))
                inline_run = []
            if node is None or not self.walk.spend():
                break
            prev = out[-1].kind if out else ""
            block = self.block(node, depth, prev)
            if block.text:
                out.append(block)
        return [b for b in out if b.text]

    def block(self, node: Any, depth: int, prev: str) -> _Block:
        if depth > MAX_DEPTH:
            return self.text_paragraph(plain_text(node, self.walk))
        if not self.walk.enter(node):
            return _Block("cycle", "")
        block = self.render(node, depth, prev)
        self.walk.leave(node)
        return block

    def render(self, node: Any, depth: int, prev: str) -> _Block:
        kind = node_type(node)
        if kind == "paragraph":
            return _Block(kind, _md_inline(children(node), self.walk, "para"))
        if kind == "heading":
            return self.heading(node)
        if kind in ("bulletList", "orderedList", "taskList", "decisionList"):
            return self.list_block(node, depth, prev)
        if kind == "codeBlock":
            return _Block(kind, self.code_block(node))
        if kind == "blockquote":
            return self.quote(children(node), depth)
        if kind == "panel":
            label = panel_label(str_attr(node, "panelType"))
            return self.quote(children(labelled_quote(label, children(node))), depth)
        if kind == "rule":
            return _Block(kind, "---")
        if kind == "table":
            return _Block(kind, self.table(node))
        if kind in ("mediaSingle", "mediaGroup", "media", "blockCard", "embedCard"):
            return _Block("paragraph", self.media(node))
        if kind in ("expand", "nestedExpand"):
            return self.expand(node, depth)
        return self.unknown(node, depth)

    def joined(self, nodes: list[Any], depth: int) -> str:
        return "\n\n".join(b.text for b in self.blocks(nodes, depth))

    def text_paragraph(self, text: str) -> _Block:
        return _Block("paragraph", _md_inline([text_node(text)] if text else [], self.walk, "para"))

    def heading(self, node: Any) -> _Block:
        level = attrs(node).get("level")
        level = min(max(level, 1), 6) if isinstance(level, int) else 1
        text = _md_inline(children(node), self.walk, "heading")
        return _Block("heading", "#" * level + (" " + text if text else ""))

    def code_block(self, node: Any) -> str:
        text = plain_text(children(node), self.walk)
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
        language = "".join(str_attr(node, "language").split()[:1])
        longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
        fence = "`" * max(3, longest + 1)
        if "`" in language:
            fence = "~" * max(3, max((len(r) for r in re.findall(r"~+", text)), default=0) + 1)
        info = re.sub(r"([\\&]|^~)", r"\\\1", language)
        return f"{fence}{info}\n{text}\n{fence}" if text else f"{fence}{info}\n{fence}"

    def quote(self, content: list[Any], depth: int) -> _Block:
        inner = self.joined(content, depth + 1)
        lines = [f"> {line}" if line else ">" for line in inner.split("\n")] if inner else []
        return _Block("blockquote", "\n".join(lines))

    def list_block(self, node: Any, depth: int, prev: str) -> _Block:
        ordered = node_type(node) == "orderedList"
        alternate = prev == ("orderedList" if ordered else "bulletList") + "/default"
        order = attrs(node).get("order", 1)
        items = children(node)
        start = order if isinstance(order, int) and not isinstance(order, bool) else 1
        start = min(max(start, 0), 999_999_999 - max(len(items) - 1, 0))
        rendered: list[str] = []
        for index, item in enumerate(items):
            if not self.walk.spend():
                break
            if ordered:
                marker = f"{start + index}{')' if alternate else '.'} "
            else:
                marker = "* " if alternate else "- "
            rendered.append(self.list_item(marker, item, depth + 1))
        first_bare = not rendered or rendered[0] == rendered[0].split(" ")[0]
        interrupts = not first_bare and (not ordered or start == 1)
        tag = ("orderedList" if ordered else "bulletList") + (
            "/alternate" if alternate else "/default"
        )
        return _Block(tag, "\n".join(rendered), interrupts)

    def list_item(self, marker: str, item: Any, depth: int) -> str:
        kind = node_type(item)
        if kind == "listItem":
            blocks = self.blocks(children(item), depth)
        elif kind in ("taskItem", "decisionItem"):
            box = {"DONE": "[x] ", "TODO": "[ ] "}.get(str_attr(item, "state"), "")
            content = [text_node(box), *children(item)] if box else children(item)
            blocks = [_Block("paragraph", _md_inline(content, self.walk, "para"))]
        else:
            blocks = self.blocks([item], depth)
        blocks = [b for b in blocks if b.text]
        if not blocks:
            return marker.rstrip()
        if blocks[0].kind == "rule" and marker == "- ":
            blocks[0] = _Block("rule", "***")
        text = blocks[0].text
        for before, block in pairwise(blocks):
            tight = before.kind == "paragraph" and block.interrupts
            text += ("\n" if tight else "\n\n") + block.text
        pad = " " * len(marker)
        lines = text.split("\n")
        if _THEMATIC.fullmatch(marker + lines[0]):  # "- - -" would be a rule: start below
            return "\n".join([marker.rstrip(), *[pad + line if line else "" for line in lines]])
        return "\n".join([marker + lines[0], *[pad + line if line else "" for line in lines[1:]]])

    def table(self, node: Any) -> str:
        rows: list[list[str]] = []
        for row in children(node):
            if not self.walk.spend():
                break
            cells = children(row) if node_type(row) == "tableRow" else [row]
            rows.append([self.cell(cell) for cell in cells[:1000]])
        width = max((len(row) for row in rows), default=0)
        if not width:
            return ""
        lines = []
        for index, row in enumerate(rows):
            padded = row + [""] * (width - len(row))
            lines.append("| " + " | ".join(padded) + " |")
            if index == 0:
                lines.append("| " + " | ".join(["---"] * width) + " |")
        return "\n".join(lines)

    def cell(self, cell: Any) -> str:
        content: list[Any] = []
        blocks = children(cell) if node_type(cell) in ("tableCell", "tableHeader") else [cell]
        for block in blocks:
            kind = node_type(block)
            if content:
                content.append(text_node(" "))
            if kind in ("paragraph", "heading"):
                content.extend(children(block))
            elif kind in INLINE_TYPES:
                content.append(block)
            else:
                content.append(text_node(plain_text(block, self.walk)))
        return _md_inline(content, self.walk, "cell")

    def media(self, node: Any) -> str:
        kind = node_type(node)
        if kind in ("blockCard", "embedCard", "media"):
            parts: list[Any] = [node]
        else:
            parts = []
            for child in children(node):
                if parts:
                    parts.append(text_node(" "))
                parts.extend(children(child) if node_type(child) == "caption" else [child])
        return _md_inline(parts, self.walk, "para")

    def expand(self, node: Any, depth: int) -> _Block:
        title = str_attr(node, "title").strip()
        head = [paragraph([text_node(title, [{"type": "strong"}])])] if title else []
        return _Block("expand", self.joined([*head, *children(node)], depth + 1))

    def unknown(self, node: Any, depth: int) -> _Block:
        kids = children(node)
        if any(node_type(kid) in BLOCK_TYPES for kid in kids):
            return _Block("unknown", self.joined(kids, depth + 1))
        if kids:
            return _Block("paragraph", _md_inline(kids, self.walk, "para"))
        text = node.get("text") if isinstance(node, dict) else None
        return self.text_paragraph(text if isinstance(text, str) else str_attr(node, "text"))


def adf_to_markdown(doc: dict[str, Any]) -> str:
    """Render an ADF document (or any ADF node) as canonical Markdown; never raises.

    A plain string (what some v3 endpoints return for old issues) is returned unchanged.
    """
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        return ""
    nodes = children(doc) if node_type(doc) == "doc" else [doc]
    return _MarkdownWriter().joined(nodes, 0)


# --------------------------------------------------------------------------------------------
# Markdown -> ADF

_MARK_TOKENS = {"strong_open": "strong", "em_open": "em", "s_open": "strike"}
_MARK_CLOSE = {"strong_close": "strong", "em_close": "em", "s_close": "strike"}
_ADF_MARK_ORDER = {"strong": 0, "em": 1, "strike": 2, "code": 3, "link": 4}
_CONTAINER_OK = frozenset({"paragraph", "bulletList", "orderedList", "codeBlock"})


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt  # lazy: keeps CLI start-up fast

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _adf_marks(stack: list[Node]) -> list[Node]:
    by_type: dict[str, Node] = {}
    for mark in stack:
        if mark["type"] in _ADF_MARK_ORDER:
            by_type.setdefault(mark["type"], mark)  # the outermost link wins
    if "code" in by_type:
        by_type = {k: v for k, v in by_type.items() if k in ("code", "link")}
    return sorted(by_type.values(), key=lambda m: _ADF_MARK_ORDER[m["type"]])


def _add_text(out: list[Node], text: str, stack: list[Node]) -> None:
    if text:
        out.append(text_node(text, _adf_marks(stack)))  # neighbours are joined by _merged


def _link_mark(token: Token, key: str) -> Node | None:
    href = token.attrGet(key)
    if not isinstance(href, str) or not href:
        return None
    mark: Node = {"type": "link", "attrs": {"href": href}}
    title = token.attrGet("title")
    if isinstance(title, str) and title:
        mark["attrs"]["title"] = title
    return mark


def _drop_last(stack: list[Node], kinds: tuple[str, ...]) -> None:
    for index in range(len(stack) - 1, -1, -1):
        if stack[index]["type"] in kinds:
            del stack[index]
            return


def _inlines(tokens: list[Token]) -> list[Node]:
    out: list[Node] = []
    stack: list[Node] = []
    for token in tokens:
        kind = token.type
        if kind in _MARK_TOKENS:
            stack.append({"type": _MARK_TOKENS[kind]})
        elif kind in _MARK_CLOSE:
            _drop_last(stack, (_MARK_CLOSE[kind],))
        elif kind == "link_open":
            stack.append(_link_mark(token, "href") or {"type": "rejected-link"})
        elif kind == "link_close":
            _drop_last(stack, ("link", "rejected-link"))
        elif kind == "softbreak":
            _add_text(out, "\n", stack)
        elif kind == "hardbreak":
            out.append({"type": "hardBreak"})
        elif kind == "code_inline":
            _add_text(out, token.content, [*stack, {"type": "code"}])
        elif kind == "image":
            alt = "".join(child.content for child in token.children or [])
            src = _link_mark(token, "src")
            has_link = any(m["type"] == "link" for m in stack)
            label = alt or str(token.attrGet("src") or "")
            _add_text(out, label, stack if has_link or src is None else [*stack, src])
        else:
            _add_text(out, token.content, stack)
    return _merged(out)


def _code_block(token: Token) -> Node:
    from markdown_it.common.utils import unescapeAll  # lazy, like the parser itself

    node: Node = {"type": "codeBlock"}
    words = unescapeAll(token.info).split() if token.type == "fence" else []
    if words:
        node["attrs"] = {"language": words[0]}
    text = token.content[:-1] if token.content.endswith("\n") else token.content
    node["content"] = [text_node(text)] if text else []
    return node


def _open_node(token: Token) -> Node | None:
    kind = token.type
    if kind == "paragraph_open":
        return paragraph()
    if kind == "heading_open":
        return {"type": "heading", "attrs": {"level": int(token.tag[1:])}, "content": []}
    if kind == "ordered_list_open":
        start = token.attrGet("start")
        order = start if isinstance(start, int) and start >= 0 else 1
        return {"type": "orderedList", "attrs": {"order": order}, "content": []}
    simple = {"bullet_list_open": "bulletList", "list_item_open": "listItem",
              "blockquote_open": "blockquote", "table_open": "table", "tr_open": "tableRow",
              "th_open": "tableHeader", "td_open": "tableCell"}  # fmt: skip
    return {"type": simple[kind], "content": []} if kind in simple else None


def _build(tokens: list[Token]) -> list[Node]:
    root: Node = {"type": "doc", "content": []}
    stack: list[Node] = [root]
    for token in tokens:
        top = stack[-1]
        if token.nesting == -1:
            if len(stack) > 1:
                stack.pop()
        elif token.nesting == 1:
            node = _open_node(token)
            if node is not None:
                top["content"].append(node)
            stack.append(node if node is not None else top)
        elif token.type == "inline":
            inlines = _inlines(token.children or [])
            if top["type"] in ("tableHeader", "tableCell"):
                top["content"].append(paragraph(inlines))
            elif top["type"] in ("paragraph", "heading"):
                top["content"].extend(inlines)
            elif inlines:
                top["content"].append(paragraph(inlines))
        elif token.type in ("fence", "code_block"):
            top["content"].append(_code_block(token))
        elif token.type == "hr":
            top["content"].append({"type": "rule"})
        elif token.content.strip():
            top["content"].append(paragraph([text_node(token.content.strip())]))
    content: list[Node] = root["content"]
    return content


def _merged(nodes: list[Node]) -> list[Node]:
    """Join neighbouring text nodes with equal marks and drop empty ones, in linear time."""
    out: list[Node] = []
    parts: list[list[str]] = []
    for node in nodes:
        if node["type"] == "text" and not node["text"]:
            continue
        last = out[-1] if out else None
        if (
            last
            and last["type"] == node["type"] == "text"
            and last.get("marks") == node.get("marks")
        ):
            parts[-1].append(node["text"])
        else:
            out.append(dict(node))
            parts.append([node.get("text", "")])
    for node, texts in zip(out, parts, strict=True):
        if node["type"] == "text":
            node["text"] = "".join(texts)
    return out


def _degrade(node: Node, allowed: frozenset[str]) -> list[Node]:
    """Replace a block ``allowed`` does not admit (ADF nesting rules) by admitted blocks."""
    kind = node["type"]
    if kind == "heading":
        return [paragraph(node["content"])]
    if kind == "blockquote":
        return _sanitize(node["content"], allowed)
    if kind == "table":
        rows = []
        for row in node["content"]:
            cells: list[Node] = []
            for cell in row["content"]:
                if cells:
                    cells.append(text_node(" | "))
                cells.extend(n for block in cell["content"] for n in block.get("content", []))
            rows.append(paragraph(_merged(cells)))
        return rows
    return []  # rule


def _sanitize(nodes: list[Node], allowed: frozenset[str] | None) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        kind = node["type"]
        if kind in ("bulletList", "orderedList"):
            for item in node["content"]:
                kids = _sanitize(item["content"], _CONTAINER_OK)
                if not kids or kids[0]["type"] not in ("paragraph", "codeBlock"):
                    kids.insert(0, paragraph())
                item["content"] = kids
        elif kind == "blockquote":
            node["content"] = _sanitize(node["content"], _CONTAINER_OK) or [paragraph()]
        if allowed is None or kind in allowed:
            out.append(node)
        else:
            out.extend(_degrade(node, allowed))
    return out


def markdown_to_adf(text: str) -> dict[str, Any]:
    """Parse Markdown into a schema-valid ADF document (empty text gives empty content)."""
    doc: Node = {"type": "doc", "version": 1, "content": []}
    if not isinstance(text, str) or not text.strip():
        return doc
    doc["content"] = _sanitize(_build(_parser().parse(text)), None)
    return doc
