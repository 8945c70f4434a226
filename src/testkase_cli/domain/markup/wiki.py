"""Jira Server/Data Center wiki markup <-> Markdown, with ADF as the common model.

``wiki_to_markdown`` parses wiki markup into ADF nodes and renders them with
:func:`~testkase_cli.domain.markup.adf.adf_to_markdown`; ``markdown_to_wiki`` parses Markdown
with :func:`~testkase_cli.domain.markup.adf.markdown_to_adf` and writes wiki markup. Both are
pure and never raise.

Wiki markup read: ``h1.``-``h6.``, ``*strong*``, ``_em_``, ``-strike-``, ``+underline+``,
``^sup^``, ``~sub~``, ``??cite??`` and their ``{*}braced{*}`` forms, ``{{monospace}}``,
``[text|url]``, ``[url]``, ``[~user]``/``[~accountid:x]`` (-> ``@user``), ``[^file]`` and
``!image.png!`` (-> ``[attachment: name]``), ``\\\\`` line breaks, ``*``/``#``/``-`` lists
(nested and mixed), ``||header||`` / ``|cell|`` tables, ``{code:lang}``, ``{noformat}``,
``{quote}``, ``bq.``, ``----``, ``{panel}``/``{info}``/``{note}``/``{warning}``/``{tip}``
(-> a quote labelled ``**Info:**``), ``{color}``/``{anchor}`` (dropped, text kept), numeric
character references. A backslash escapes the ASCII punctuation character after it.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_right
from typing import Any

from testkase_cli.domain.markup.adf import (
    MAX_DEPTH,
    InlineStyle,
    Mark,
    Node,
    Piece,
    Walk,
    adf_to_markdown,
    attrs,
    children,
    inline_atoms,
    labelled_quote,
    layout,
    markdown_to_adf,
    node_type,
    paragraph,
    plain_text,
    str_attr,
    text_node,
)

__all__ = ["markdown_to_wiki", "wiki_to_markdown"]

_PUNCT = frozenset(string.punctuation)
_EFFECTS = {"*": "strong", "_": "em", "-": "strike", "+": "underline", "^": "sup", "~": "sub"}
_DELIMS = {"strong": "*", "em": "_", "strike": "-", "underline": "+"}
_MARK_ORDER = {"strong": 0, "em": 1, "strike": 2, "underline": 3, "sup": 4, "sub": 5, "code": 6,
               "link": 7}  # fmt: skip
_PANELS = {"panel": "Panel", "info": "Info", "note": "Note", "warning": "Warning", "tip": "Tip"}

_HEADING = re.compile(r"h([1-6])\.(?:[ \t]+(.*))?", re.DOTALL)
_QUOTE_LINE = re.compile(r"bq\.(?:[ \t]+(.*))?", re.DOTALL)
_RULE = re.compile(r"-{4,}")
_LIST_ITEM = re.compile(r"([*#]+|-)[ \t]+(.*)|([*#]+)", re.DOTALL)  # a bare marker: empty item
_BLOCK_MACRO = re.compile(r"\{(code|noformat|quote|panel|info|note|warning|tip)(?::([^}\n]*))?\}")
_BRACED = re.compile(r"\{(\*|_|-|\+|\^|~|\?\?)\}")
_DROPPED_TAG = re.compile(r"\{(?:color|anchor)(?::[^}\n]*)?\}")
_ENTITY = re.compile(r"&#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}));")
_SPECIAL = re.compile(r"[\\{\[!&?*_\-+^~]")  # where construct() or _literal() may act
_URLISH = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*:|www\.|#|/)\S*")


# --------------------------------------------------------------------------------------------
# wiki -> ADF


def _marks(kinds: tuple[tuple[str, str], ...]) -> list[Node]:
    marks: list[Node] = []
    for kind, value in sorted(set(kinds), key=lambda k: _MARK_ORDER[k[0]]):
        if kind == "link":
            marks.append({"type": "link", "attrs": {"href": value}})
        elif kind in ("sup", "sub"):
            marks.append({"type": "subsup", "attrs": {"type": kind}})
        else:
            marks.append({"type": kind})
    return marks


def _decode(text: str) -> str:
    """Resolve backslash escapes and numeric character references."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char, index = _literal(text, index)
        out.append(char)
    return "".join(out)


def _literal(text: str, index: int) -> tuple[str, int]:
    """The literal character at ``index`` (after escapes/references) and the next index."""
    char = text[index]
    if char == "\\" and index + 1 < len(text) and text[index + 1] in _PUNCT:
        return text[index + 1], index + 2
    entity = _ENTITY.match(text, index) if char == "&" else None
    if entity:
        code = int(entity.group(1) or entity.group(2), 10 if entity.group(1) else 16)
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code), entity.end()
    return char, index + 1


_MAX_LINK = 2000  # a [...] or !...! body longer than this is not a link or an image


class _Scanner:
    """Same-line searches over one text, remembering their answers.

    A search from ``start`` that ends at ``stop`` (a hit, or the end of the line) gives the same
    answer from any later start up to ``stop``, so hostile input stays linear.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.memo: dict[str, tuple[int, int, int]] = {}  # key -> (start, stop, answer)

    def _recall(self, key: str, start: int) -> int | None:
        seen = self.memo.get(key)
        if seen is not None and seen[0] <= start < seen[1]:
            return seen[2]
        return None

    def find(self, start: int, token: str) -> int:
        """First unescaped ``token`` at or after ``start`` on the same line, or -1."""
        known = self._recall(token, start)
        if known is not None:
            return known
        text, index = self.text, start
        while index < len(text) and text[index] != "\n":
            if text[index] == "\\":
                index += 2
            elif text.startswith(token, index):
                self.memo[token] = (start, index, index)
                return index
            else:
                index += 1
        self.memo[token] = (start, index + 1, -1)
        return -1

    def skip(self, index: int) -> int:
        """Index just past an escape, ``{{...}}`` or ``[...]`` at ``index``, else ``index``."""
        text = self.text
        if text[index] == "\\":
            return index + 2
        if text.startswith("{{", index):
            end = self.find(index + 2, "}}")
            return end + 2 if end >= 0 else index
        if text[index] == "[":
            end = self.find(index + 1, "]")
            return end + 1 if end >= 0 else index
        return index

    def closer(self, start: int, delimiter: str) -> int:
        """Where an effect opened just before ``start`` closes (same line), or -1."""
        key = "close:" + delimiter
        known = self._recall(key, start)
        if known is not None:
            return known
        text, index = self.text, start
        while index < len(text) and text[index] != "\n":
            skipped = self.skip(index)
            if skipped != index:
                index = skipped
                continue
            if (
                text.startswith(delimiter, index)
                and index > start
                and not text[index - 1].isspace()
            ):
                after = index + len(delimiter)
                if after >= len(text) or not text[after].isalnum():
                    self.memo[key] = (start, index, index)
                    return index
            index += 1
        self.memo[key] = (start, index + 1, -1)
        return -1


_Marks = tuple[tuple[str, str], ...]
_Step = tuple[list[Node], int] | None


class _InlineParser:
    """Inline wiki markup -> ADF inline nodes. Linear per nesting level (see ``_Scanner``)."""

    def parse(self, text: str, marks: _Marks = (), depth: int = 0) -> list[Node]:
        out: list[Node] = []
        buf: list[str] = []
        scan = _Scanner(text)

        def flush() -> None:
            if buf:
                out.append(text_node("".join(buf), _marks(marks)))
                buf.clear()

        index = 0
        while index < len(text):
            special = _SPECIAL.search(text, index)
            stop = special.start() if special else len(text)
            if stop > index:  # plain text up to the next character that may start markup
                buf.append(text[index:stop])
                index = stop
                continue
            step = self.construct(scan, index, marks, depth)
            if step is None:
                char, index = _literal(text, index)
                buf.append(char)
                continue
            nodes, index = step
            flush()
            out.extend(nodes)
        flush()
        return out

    def construct(self, scan: _Scanner, index: int, marks: _Marks, depth: int) -> _Step:
        text = scan.text
        char = text[index]
        if text.startswith("\\\\", index):
            return [{"type": "hardBreak"}], index + 2
        if depth > MAX_DEPTH:
            return None
        if text.startswith("{{", index):
            end = scan.find(index + 2, "}}")
            if end > index + 2:
                code = _decode(text[index + 2 : end])
                link = tuple(m for m in marks if m[0] == "link")
                return [text_node(code, _marks((*link, ("code", ""))))], end + 2
        if char == "{":
            return self.brace(scan, index, marks, depth)
        if char in _EFFECTS or text.startswith("??", index):
            return self.effect(scan, index, marks, depth)
        if char == "[":
            return self.link(scan, index, marks, depth)
        if char == "!":
            return self.image(scan, index, marks)
        return None

    def brace(self, scan: _Scanner, index: int, marks: _Marks, depth: int) -> _Step:
        dropped = _DROPPED_TAG.match(scan.text, index)
        if dropped:
            return [], dropped.end()
        braced = _BRACED.match(scan.text, index)
        if not braced:
            return None
        end = scan.find(braced.end(), braced.group(0))
        if end <= braced.end():
            return None
        kind = "em" if braced.group(1) == "??" else _EFFECTS[braced.group(1)]
        inner = self.parse(scan.text[braced.end() : end], (*marks, (kind, "")), depth + 1)
        return inner, end + len(braced.group(0))

    def effect(self, scan: _Scanner, index: int, marks: _Marks, depth: int) -> _Step:
        text = scan.text
        delimiter = "??" if text.startswith("??", index) else text[index]
        after = index + len(delimiter)
        if index and text[index - 1].isalnum():
            return None
        if after >= len(text) or text[after].isspace():
            return None
        end = scan.closer(after, delimiter)
        if end < 0:
            return None
        kind = "em" if delimiter == "??" else _EFFECTS[delimiter]
        return self.parse(text[after:end], (*marks, (kind, "")), depth + 1), end + len(delimiter)

    def link(self, scan: _Scanner, index: int, marks: _Marks, depth: int) -> _Step:
        end = scan.find(index + 1, "]")
        if end <= index + 1 or end - index > _MAX_LINK:
            return None
        body = scan.text[index + 1 : end]
        if not body.strip():
            return None
        if body.startswith("~"):
            user = _decode(body[1:])
            user = user[len("accountid:") :] if user.lower().startswith("accountid:") else user
            return [text_node("@" + user.strip(), _marks(marks))], end + 1
        if body.startswith("^"):
            name = _decode(body[1:]).strip()
            return [text_node(f"[attachment: {name}]", _marks(marks))], end + 1
        bar = scan.find(index + 1, "|")
        split = bar - index - 1 if 0 <= bar < end else -1
        label, target = (body[:split], body[split + 1 :]) if split >= 0 else ("", body)
        if split < 0 and not _URLISH.fullmatch(target.strip()):
            return None  # "[Regression]" is text, not a link
        tip = scan.find(bar + 1, "|") if split >= 0 else -1
        href = _decode(target[: tip - bar - 1] if 0 <= tip < end else target).strip()
        if not href:
            return None
        linked = (*marks, ("link", href))
        if not label.strip():
            return [text_node(href, _marks(linked))], end + 1
        return self.parse(label.strip(), linked, depth + 1), end + 1

    def image(self, scan: _Scanner, index: int, marks: _Marks) -> _Step:
        end = scan.find(index + 1, "!")
        if end <= index + 1 or end - index > _MAX_LINK:
            return None
        body = scan.text[index + 1 : end]
        if body != body.strip() or (index and scan.text[index - 1].isalnum()):
            return None
        name = _decode(body.split("|", 1)[0]).strip()
        return [text_node(f"[attachment: {name}]", _marks(marks))], end + 1


def _block_start(line: str) -> bool:
    stripped = line.strip(" \t")
    return bool(
        _HEADING.fullmatch(stripped)
        or _QUOTE_LINE.fullmatch(stripped)
        or _RULE.fullmatch(stripped)
        or _LIST_ITEM.fullmatch(stripped)
        or stripped.startswith("|")
        or _BLOCK_MACRO.match(stripped)
    )


def _find_macro_end(text: str, start: int, name: str) -> int:
    """Index of the closing ``{name}``; quotes and panels skip code bodies; -1 if unclosed."""
    tag = "{" + name + "}"
    if name in ("code", "noformat"):
        return text.find(tag, start)
    scan = _Scanner(text)
    index = start
    while index < len(text):
        if text.startswith(tag, index):
            return index
        inner = _BLOCK_MACRO.match(text, index)
        if inner and inner.group(1) in ("code", "noformat"):
            close = text.find("{" + inner.group(1) + "}", inner.end())
            index = close + len(inner.group(1)) + 2 if close >= 0 else len(text)
            continue
        skipped = scan.skip(index) if text[index] in "\\{" else index
        index = skipped if skipped != index else index + 1
    return -1


def _macro_label(name: str, params: str) -> str:
    for param in params.split("|"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "title" and value.strip():
            return value.strip()
    return _PANELS[name]


class _BlockParser:
    """Wiki blocks -> ADF blocks; macros are found by offset so long texts stay linear."""

    def __init__(self) -> None:
        self.inline = _InlineParser()

    def parse(self, text: str, depth: int = 0) -> list[Node]:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
        lines = text.split("\n")
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        out: list[Node] = []
        index = 0
        while index < len(lines):  # every pass consumes a line or a macro
            line = lines[index].strip(" \t")
            macro = _BLOCK_MACRO.match(line)
            if not line or not macro or depth >= MAX_DEPTH:
                index = self.block(lines, index, out) if line else index + 1
                continue
            begin = starts[index] + len(lines[index]) - len(lines[index].lstrip(" \t"))
            nodes, resume = self.macro(text, begin, macro, depth)
            out.extend(nodes)
            index = bisect_right(starts, resume) - 1  # the line the macro ended on
            if resume >= len(text):
                break
            rest_end = starts[index] + len(lines[index])
            lines[index], starts[index] = text[resume:rest_end], resume
        return out

    def macro(
        self, text: str, begin: int, macro: re.Match[str], depth: int
    ) -> tuple[list[Node], int]:
        """The blocks of the macro opening at ``begin`` and where the text after it resumes."""
        name, params = macro.group(1), macro.group(2) or ""
        opened = begin + macro.end()
        end = _find_macro_end(text, opened, name)
        body = text[opened:end] if end >= 0 else text[opened:]
        resume = end + len(name) + 2 if end >= 0 else len(text)
        if name in ("code", "noformat"):
            body = body[1:] if body.startswith("\n") else body
            body = body[:-1] if body.endswith("\n") else body
            node: Node = {"type": "codeBlock", "content": [text_node(body)] if body else []}
            words = [p for p in params.split("|") if p.strip() and "=" not in p]
            named = [p.split("=", 1)[1] for p in params.split("|") if p.startswith("language=")]
            language = (named or words or [""])[0].strip()
            if name == "code" and language:
                node["attrs"] = {"language": language}
            return [node], resume
        inner = self.parse(body, depth + 1)
        if name == "quote":
            return ([{"type": "blockquote", "content": inner}] if inner else []), resume
        return [labelled_quote(_macro_label(name, params), inner)], resume

    def block(self, lines: list[str], index: int, out: list[Node]) -> int:
        line = lines[index].strip(" \t")
        heading = _HEADING.fullmatch(line)
        if heading:
            content = self.inline.parse(heading.group(2) or "")
            out.append(
                {"type": "heading", "attrs": {"level": int(heading.group(1))}, "content": content}
            )
            return index + 1
        quote = _QUOTE_LINE.fullmatch(line)
        if quote:
            out.append(
                {
                    "type": "blockquote",
                    "content": [paragraph(self.inline.parse(quote.group(1) or ""))],
                }
            )
            return index + 1
        if _RULE.fullmatch(line):
            out.append({"type": "rule"})
            return index + 1
        if _LIST_ITEM.fullmatch(line):
            return self.list_block(lines, index, out)
        if line.startswith("|"):
            return self.table(lines, index, out)
        end = index + 1
        while end < len(lines) and lines[end].strip(" \t") and not _block_start(lines[end]):
            end += 1
        text = "\n".join(part.strip(" \t") for part in lines[index:end])
        out.append(paragraph(self.inline.parse(text)))
        return end

    def continued(self, lines: list[str], index: int) -> tuple[str, int]:
        """The line at ``index`` plus the plain lines that continue it."""
        parts = [lines[index].strip(" \t")]
        index += 1
        while index < len(lines) and lines[index].strip(" \t") and not _block_start(lines[index]):
            parts.append(lines[index].strip(" \t"))
            index += 1
        return "\n".join(parts), index

    def list_block(self, lines: list[str], index: int, out: list[Node]) -> int:
        stack: list[tuple[str, Node]] = []  # (marker char, list node) per nesting level
        while index < len(lines):
            match = _LIST_ITEM.fullmatch(lines[index].strip(" \t"))
            if not match:
                break
            text, index = self.continued(lines, index)
            marker = match.group(1) or match.group(3)
            prefix = marker.replace("-", "*")
            body = text[len(marker) :].strip(" \t")
            _place_item(stack, prefix, paragraph(self.inline.parse(body)), out)
        return index

    def table(self, lines: list[str], index: int, out: list[Node]) -> int:
        rows: list[Node] = []
        while index < len(lines) and lines[index].strip(" \t").startswith("|"):
            text, index = self.continued(lines, index)
            cells = [
                {"type": kind, "content": [paragraph(self.inline.parse(cell.strip(" \t")))]}
                for kind, cell in _split_row(text)
            ]
            if cells:
                rows.append({"type": "tableRow", "content": cells})
        if rows:
            out.append({"type": "table", "content": rows})
        return index


def _place_item(stack: list[tuple[str, Node]], prefix: str, first: Node, out: list[Node]) -> None:
    depth = len(prefix)
    keep = 0
    while keep < min(len(stack), depth) and stack[keep][0] == prefix[keep]:
        keep += 1
    del stack[keep:]
    while len(stack) < depth:
        char = prefix[len(stack)]
        node: Node = {"type": "orderedList" if char == "#" else "bulletList", "content": []}
        if char == "#":
            node["attrs"] = {"order": 1}
        if stack:
            items = stack[-1][1]["content"]
            if not items:
                items.append({"type": "listItem", "content": [paragraph()]})
            items[-1]["content"].append(node)
        else:
            out.append(node)
        stack.append((char, node))
    stack[-1][1]["content"].append({"type": "listItem", "content": [first]})


def _split_row(row: str) -> list[tuple[str, str]]:
    cells: list[tuple[str, str]] = []
    scan = _Scanner(row)
    index = 0
    while index < len(row):
        header = row.startswith("||", index)
        index += 2 if header else 1
        start = index
        while index < len(row) and row[index] != "|":
            skipped = scan.skip(index)
            if skipped == index and row[index] == "!" and row[index + 1 : index + 2].strip():
                close = scan.find(index + 1, "!")  # !image.png|thumbnail! holds a pipe
                skipped = close + 1 if close > index + 1 else index
            index = skipped if skipped != index else index + 1
        cells.append(("tableHeader" if header else "tableCell", row[start:index]))
    if cells and not cells[-1][1].strip():
        cells.pop()  # the closing delimiter
    return cells


def wiki_to_markdown(text: str) -> str:
    """Convert Jira wiki markup (Server/Data Center, REST v2) to Markdown; never raises."""
    if not isinstance(text, str) or not text.strip():
        return ""
    blocks = _BlockParser().parse(text)
    return adf_to_markdown({"type": "doc", "version": 1, "content": blocks})


# --------------------------------------------------------------------------------------------
# ADF -> wiki

_WIKI_STYLE = frozenset({"link", "strong", "em", "strike", "underline"})
_LINE_START_ESCAPE = frozenset("*#-|")


def _wiki_escape(
    text: str, prev: str | None, nxt: str | None, piece: Piece, mode: str, line_start: bool
) -> str:
    out: list[str] = []
    for index, char in enumerate(text):
        before = text[index - 1] if index else prev
        after = text[index + 1] if index + 1 < len(text) else nxt
        first = index == 0 and line_start
        if char == "\\" and after is not None and (after in _PUNCT):
            out.append("&#92;")
            continue
        if _wiki_needs_escape(char, before, after, piece.in_link, mode) or (
            first and char in _LINE_START_ESCAPE
        ):
            out.append("\\")
        out.append(char)
    escaped = "".join(out)
    if line_start and re.match(r"(?:h[1-6]|bq)\.", escaped):
        escaped = escaped.replace(".", "\\.", 1)
    return escaped


def _wiki_needs_escape(
    char: str, before: str | None, after: str | None, in_link: bool, mode: str
) -> bool:
    if char in _EFFECTS:
        opens = (
            (before is None or not before.isalnum()) and after is not None and not after.isspace()
        )
        closes = (
            before is not None and not before.isspace() and (after is None or not after.isalnum())
        )
        return opens or closes
    if char == "?":
        return "?" in (before, after)
    if char in "{}[":
        return True
    if char in "]|":
        return in_link or (char == "|" and mode == "cell")
    if char == "!":
        return after is not None and not after.isspace()
    if char == "&":
        return after == "#"
    return False


def _wiki_url(href: str) -> str:
    return re.sub(r"[\s|\[\]{}]", lambda m: f"%{ord(m.group(0)):02X}", href)


def _raw_first(piece: Piece) -> str | None:
    if piece.kind == "text":
        return piece.text[:1] or None
    return {"nl": "\n", "break": "\\", "code": "{", "auto": "["}.get(piece.kind, "*")


def _raw_last(piece: Piece) -> str | None:
    if piece.kind == "text":
        return piece.text[-1:] or None
    return {"nl": "\n", "break": "\\", "code": "}", "auto": "]"}.get(piece.kind, "*")


def _braced(pieces: list[Piece]) -> set[int]:
    """Indexes of mark pieces that need the ``{*}`` form because a letter touches them."""
    braced: set[int] = set()
    open_at: dict[Mark, int] = {}
    for index, piece in enumerate(pieces):
        if piece.kind == "open" and piece.mark is not None:
            open_at[piece.mark] = index
        elif piece.kind == "close" and piece.mark is not None and piece.mark in open_at:
            start = open_at.pop(piece.mark)
            before = _raw_last(pieces[start - 1]) if start else None
            after = _raw_first(pieces[index + 1]) if index + 1 < len(pieces) else None
            if (before is not None and before.isalnum()) or (after is not None and after.isalnum()):
                braced.update((start, index))
    return braced


def _wiki_inline(nodes: list[Any], walk: Walk, mode: str) -> str:
    style = InlineStyle(_WIKI_STYLE, marks_cross_newline=False, single_line=mode != "para")
    pieces = layout(inline_atoms(nodes, walk, style), style.space)
    braced = _braced(pieces)
    out: list[str] = []
    prev: str | None = None
    end = "|" if mode == "cell" else None  # what follows the content in the output
    for index, piece in enumerate(pieces):
        nxt = _raw_first(pieces[index + 1]) if index + 1 < len(pieces) else end
        rendered = _wiki_piece(
            piece, prev, nxt, mode, index in braced, not out or out[-1].endswith("\n")
        )
        out.append(rendered)
        prev = rendered[-1:] or prev
    return "".join(out)


def _wiki_piece(
    piece: Piece, prev: str | None, nxt: str | None, mode: str, braced: bool, line_start: bool
) -> str:
    if piece.kind == "text":
        return _wiki_escape(piece.text, prev, nxt, piece, mode, line_start and mode == "para")
    if piece.kind == "code":
        return "{{" + _wiki_escape(piece.text, "{", "}", piece, mode, False) + "}}"
    if piece.kind == "auto":
        return f"[{_wiki_url(piece.text)}]"
    if piece.kind == "break":
        return "\\\\"
    if piece.kind == "nl":
        return "\n"
    mark = piece.mark
    if mark is None:
        return ""
    if mark.kind == "link":
        return "[" if piece.kind == "open" else f"|{_wiki_url(mark.href)}]"
    delimiter = _DELIMS[mark.kind]
    return "{" + delimiter + "}" if braced else delimiter


class _WikiWriter:
    def __init__(self) -> None:
        self.walk = Walk()

    def blocks(self, nodes: list[Any], depth: int) -> str:
        rendered = (self.block(node, depth) for node in nodes if self.walk.spend())
        return "\n\n".join(text for text in rendered if text)

    def block(self, node: Any, depth: int) -> str:
        kind = node_type(node)
        if depth > MAX_DEPTH:
            return _wiki_inline([text_node(plain_text(node, self.walk))], self.walk, "para")
        if kind == "paragraph":
            return _wiki_inline(children(node), self.walk, "para")
        if kind == "heading":
            level = attrs(node).get("level")
            level = min(max(level, 1), 6) if isinstance(level, int) else 1
            return f"h{level}. " + _wiki_inline(children(node), self.walk, "line")
        if kind in ("bulletList", "orderedList"):
            return "\n".join(self.list_lines(node, "", depth))
        if kind == "codeBlock":
            return self.code(node)
        if kind == "blockquote":
            inner = self.blocks(children(node), depth + 1)
            return f"{{quote}}\n{inner}\n{{quote}}" if inner else ""
        if kind == "rule":
            return "----"
        if kind == "table":
            return self.table(node)
        if any(node_type(kid) not in ("text", "hardBreak", "") for kid in children(node)):
            return self.blocks(children(node), depth + 1)
        return _wiki_inline([node] if kind == "text" else children(node), self.walk, "para")

    def code(self, node: Any) -> str:
        text = plain_text(children(node), self.walk)
        language = re.sub(r"[^\w+#.\-]", "", str_attr(node, "language"))
        if language and "{code}" not in text:
            return (
                f"{{code:{language}}}\n{text}\n{{code}}"
                if text
                else f"{{code:{language}}}\n{{code}}"
            )
        text = text.replace("{noformat}", "{ noformat}")
        return f"{{noformat}}\n{text}\n{{noformat}}" if text else "{noformat}\n{noformat}"

    def list_lines(self, node: Any, prefix: str, depth: int) -> list[str]:
        marker = prefix + ("#" if node_type(node) == "orderedList" else "*")
        lines: list[str] = []
        for item in children(node):
            if not self.walk.spend():
                break
            parts: list[str] = []
            nested: list[str] = []
            for kid in children(item) if node_type(item) == "listItem" else [item]:
                kind = node_type(kid)
                if kind in ("bulletList", "orderedList") and depth < MAX_DEPTH:
                    nested.extend(self.list_lines(kid, marker, depth + 1))
                elif kind == "codeBlock":
                    code = plain_text(children(kid), self.walk).split("\n")
                    code_nodes = [text_node(line, [{"type": "code"}]) for line in code if line]
                    parts.append(_wiki_inline(_with_breaks(code_nodes), self.walk, "para"))
                else:
                    parts.append(self.block(kid, depth + 1).replace("\n\n", "\\\\"))
            content = "\\\\".join(p for p in parts if p)
            if content or not nested:  # an empty parent item is implied by its nested list
                lines.append(f"{marker} {content}".rstrip(" "))
            lines.extend(nested)
        return lines

    def table(self, node: Any) -> str:
        lines: list[str] = []
        for row in children(node):
            line = delimiter = ""
            for cell in children(row) if node_type(row) == "tableRow" else [row]:
                delimiter = "||" if node_type(cell) == "tableHeader" else "|"
                line += delimiter + (self.cell(cell) or " ")
            if line:
                lines.append(line + delimiter)
        return "\n".join(lines)

    def cell(self, cell: Any) -> str:
        content: list[Any] = []
        for block in children(cell) if node_type(cell) in ("tableCell", "tableHeader") else [cell]:
            if content:
                content.append(text_node(" "))
            if node_type(block) in ("paragraph", "heading"):
                content.extend(children(block))
            else:
                content.append(text_node(plain_text(block, self.walk)))
        return _wiki_inline(content, self.walk, "cell")


def _with_breaks(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        if out:
            out.append({"type": "hardBreak"})
        out.append(node)
    return out


def markdown_to_wiki(text: str) -> str:
    """Convert Markdown to Jira wiki markup (Server/Data Center, REST v2); never raises."""
    if not isinstance(text, str) or not text.strip():
        return ""
    return _WikiWriter().blocks(children(markdown_to_adf(text)), 0)
