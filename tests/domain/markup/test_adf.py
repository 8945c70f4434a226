"""ADF <-> Markdown: official samples, one test per construct, and property tests."""

from __future__ import annotations

import json
import string
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testkase_cli.domain.markup.adf import adf_to_markdown, markdown_to_adf

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "jira"


# --------------------------------------------------------------------------------------------
# helpers


def doc(*content: Any) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def p(*content: Any) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def t(text: str, *marks: str | dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = [{"type": m} if isinstance(m, str) else m for m in marks]
    return node


def link(href: str, title: str | None = None) -> dict[str, Any]:
    mark: dict[str, Any] = {"type": "link", "attrs": {"href": href}}
    if title:
        mark["attrs"]["title"] = title
    return mark


def walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            found.append(cur)
            stack.extend(reversed(cur.get("content", [])))
    return found


def text_of(node: Any) -> str:
    return "".join(n["text"] for n in walk(node) if n["type"] == "text")


def sample(name: str) -> Any:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"shared Jira sample {path} is not present beside the repository")
    return json.loads(path.read_text(encoding="utf-8"))


def adf_values(value: Any) -> list[dict[str, Any]]:
    """Every ADF document inside a JSON sample."""
    if isinstance(value, dict):
        if value.get("type") == "doc":
            return [value]
        return [d for v in value.values() for d in adf_values(v)]
    if isinstance(value, list):
        return [d for v in value for d in adf_values(v)]
    return []


# --------------------------------------------------------------------------------------------
# official examples


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "cloud-v3-issue-get.official-example.json",
            ["Main order flow broken", "Lorem ipsum dolor sit amet", "I did some work here."],
        ),
        ("cloud-v3-comments-get.official-example.json", ["Lorem ipsum dolor sit amet"]),
        ("cloud-v3-comment-post-201.official-example.json", ["Lorem ipsum dolor sit amet"]),
        (
            "cloud-v3-issue-create-request.official-example.json",
            [
                "Occurs on all orders",
                "Could impact day-to-day work.",
                "Order entry fails when selecting supplier.",
                "UAT",
            ],
        ),
    ],
)
def test_official_examples_render_and_round_trip(name: str, expected: list[str]) -> None:
    docs = adf_values(sample(name))
    rendered = [adf_to_markdown(d) for d in docs]
    assert len(docs) == len(expected)
    for markdown, start in zip(rendered, expected, strict=True):
        assert markdown.startswith(start)
        assert "\n" not in markdown
    for original, markdown in zip(docs, rendered, strict=True):
        back = markdown_to_adf(markdown)
        assert back["content"] == original["content"]


def test_official_comment_body_exact() -> None:
    body = sample("cloud-v3-comment-post-201.official-example.json")["body"]
    assert adf_to_markdown(body) == (
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Pellentesque eget venenatis "
        "elit. Duis eu justo eget augue iaculis fermentum. Sed semper quam laoreet nisi egestas "
        "at posuere augue semper."
    )


# --------------------------------------------------------------------------------------------
# constructs, ADF -> Markdown


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ([p(t("Hello world"))], "Hello world"),
        ([p(t("one")), p(t("two"))], "one\n\ntwo"),
        ([p(t("Hello "), t("bold", "strong"), t(" world"))], "Hello **bold** world"),
        ([p(t("Hello "), t("it", "em"))], "Hello *it*"),
        ([p(t("run "), t("pytest -k x", "code"))], "run `pytest -k x`"),
        ([p(t("gone", "strike"))], "~~gone~~"),
        ([p(t("both", "strong", "em"))], "***both***"),
        ([p(t("bold ", "strong"), t("next"))], "**bold** next"),
        ([p(t("see "), t("docs", link("https://x.io/d")))], "see [docs](https://x.io/d)"),
        ([p(t("docs", link("https://x.io", "Title")))], '[docs](https://x.io "Title")'),
        ([p(t("https://x.io/a", link("https://x.io/a")))], "<https://x.io/a>"),
        ([p(t("a", link("https://x.io/a b")))], "[a](<https://x.io/a b>)"),
        ([p(t("a"), {"type": "hardBreak"}, t("b"))], "a\\\nb"),
        ([p(t("line one\nline two"))], "line one\nline two"),
        ([{"type": "heading", "attrs": {"level": 2}, "content": [t("Steps")]}], "## Steps"),
        ([{"type": "heading", "attrs": {"level": 6}, "content": [t("Six")]}], "###### Six"),
        ([{"type": "heading", "attrs": {"level": 9}, "content": [t("Nine")]}], "###### Nine"),
        ([{"type": "rule"}], "---"),
        (
            [{"type": "codeBlock", "attrs": {"language": "python"}, "content": [t("x = 1")]}],
            "```python\nx = 1\n```",
        ),
        ([{"type": "codeBlock", "content": [t("has ``` inside")]}], "````\nhas ``` inside\n````"),
        ([{"type": "codeBlock"}], "```\n```"),
        ([{"type": "blockquote", "content": [p(t("quoted"))]}], "> quoted"),
        (
            [{"type": "blockquote", "content": [p(t("a")), p(t("b"))]}],
            "> a\n>\n> b",
        ),
        ([p(t("/deploy now"))], "/deploy now"),
    ],
)
def test_adf_to_markdown_constructs(content: list[Any], expected: str) -> None:
    assert adf_to_markdown(doc(*content)) == expected


def item(*content: Any) -> dict[str, Any]:
    return {"type": "listItem", "content": list(content)}


def test_lists_nested_and_ordered() -> None:
    nested = {"type": "bulletList", "content": [item(p(t("child")))]}
    bullets = {"type": "bulletList", "content": [item(p(t("a")), nested), item(p(t("b")))]}
    ordered = {
        "type": "orderedList",
        "attrs": {"order": 9},
        "content": [item(p(t("nine"))), item(p(t("ten")), p(t("more")))],
    }
    assert adf_to_markdown(doc(bullets, ordered)) == (
        "- a\n  - child\n- b\n\n9. nine\n10. ten\n\n    more"
    )


def test_adjacent_lists_alternate_markers_to_stay_apart() -> None:
    one = {"type": "bulletList", "content": [item(p(t("a")))]}
    two = {"type": "orderedList", "content": [item(p(t("b")))]}
    assert adf_to_markdown(doc(one, one, one)) == "- a\n\n* a\n\n- a"
    assert adf_to_markdown(doc(two, two)) == "1. b\n\n1) b"
    assert len(markdown_to_adf(adf_to_markdown(doc(one, one)))["content"]) == 2


def test_table_with_header_row_and_padding() -> None:
    def cell(kind: str, text: str) -> dict[str, Any]:
        return {"type": kind, "content": [p(t(text))] if text else [p()]}

    table = {
        "type": "table",
        "content": [
            {"type": "tableRow", "content": [cell("tableHeader", "Step"), cell("tableHeader", "")]},
            {"type": "tableRow", "content": [cell("tableCell", "a|b"), cell("tableCell", "ok")]},
            {"type": "tableRow", "content": [cell("tableCell", "short")]},
        ],
    }
    assert adf_to_markdown(doc(table)) == (
        "| Step |  |\n| --- | --- |\n| a\\|b | ok |\n| short |  |"
    )


def test_mention_emoji_inline_card_date_status() -> None:
    content = p(
        {"type": "mention", "attrs": {"id": "5b10a2844c20165700ede21g", "text": "@Jane Doe"}},
        t(" "),
        {"type": "mention", "attrs": {"id": "abc"}},
        t(" "),
        {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}},
        t(" "),
        {"type": "inlineCard", "attrs": {"url": "https://x.atlassian.net/browse/K-1"}},
        t(" "),
        {"type": "date", "attrs": {"timestamp": "1700000000000"}},
        t(" "),
        {"type": "status", "attrs": {"text": "IN PROGRESS", "color": "blue"}},
    )
    assert adf_to_markdown(doc(content)) == (
        "@Jane Doe @abc :smile: <https://x.atlassian.net/browse/K-1> 2023-11-14 IN PROGRESS"
    )


def test_panel_degrades_to_labelled_blockquote() -> None:
    panel = {"type": "panel", "attrs": {"panelType": "info"}, "content": [p(t("Heads up"))]}
    warn = {"type": "panel", "attrs": {"panelType": "warning"}, "content": [{"type": "rule"}]}
    assert adf_to_markdown(doc(panel)) == "> **Info:** Heads up"
    assert adf_to_markdown(doc(warn)) == "> **Warning:**\n>\n> ---"


def test_media_degrades_to_placeholder() -> None:
    single = {
        "type": "mediaSingle",
        "attrs": {"layout": "center"},
        "content": [
            {"type": "media", "attrs": {"id": "6e7c", "type": "file", "alt": "login.png"}},
        ],
    }
    group = {
        "type": "mediaGroup",
        "content": [
            {"type": "media", "attrs": {"id": "a1", "type": "file"}},
            {"type": "media", "attrs": {"type": "external", "url": "https://i.io/x.png"}},
        ],
    }
    inline = p(t("see "), {"type": "mediaInline", "attrs": {"id": "z9"}})
    assert adf_to_markdown(doc(single, group, inline)) == (
        "[attachment: login.png]\n\n[attachment: a1] [attachment: https://i.io/x.png]\n\n"
        "see [attachment: z9]"
    )


def test_unknown_nodes_degrade_to_their_text() -> None:
    weird = {"type": "fancyWidget", "content": [t("inside"), t(" text", "strong")]}
    container = {
        "type": "layoutSection",
        "content": [{"type": "layoutColumn", "content": [p(t("col"))]}],
    }
    assert adf_to_markdown(doc(weird, container)) == "inside **text**\n\ncol"
    assert adf_to_markdown(doc({"type": "extension", "attrs": {"extensionKey": "x"}})) == ""
    assert adf_to_markdown(doc(t("bare inline at block level"))) == "bare inline at block level"


def test_expand_and_task_list() -> None:
    expand = {"type": "expand", "attrs": {"title": "Details"}, "content": [p(t("hidden"))]}
    tasks = {
        "type": "taskList",
        "content": [
            {"type": "taskItem", "attrs": {"state": "DONE"}, "content": [t("ship")]},
            {"type": "taskItem", "attrs": {"state": "TODO"}, "content": [t("test")]},
        ],
    }
    assert adf_to_markdown(doc(expand, tasks)) == "**Details**\n\nhidden\n\n- [x] ship\n- [ ] test"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 * 3 = 6", "2 * 3 = 6"),
        ("snake_case_name", "snake_case_name"),
        ("a*b*c", "a\\*b\\*c"),
        ("_x_", "\\_x\\_"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "1\\. not a list"),
        ("2024. A year", "2024\\. A year"),
        ("1.5 litres", "1.5 litres"),
        ("- not a bullet", "\\- not a bullet"),
        ("> not a quote", "\\> not a quote"),
        ("[Regression] login", "[Regression] login"),
        ("[a](b)", "[a\\](b)"),
        ("[ref]: /url", "\\[ref]: /url"),
        ("![img](x)", "\\![img\\](x)"),
        ("`tick`", "\\`tick\\`"),
        ("~~not struck~~", "\\~\\~not struck\\~\\~"),
        ("a ~ b", "a ~ b"),
        ("x < y and <b>", "x < y and \\<b>"),
        ("&amp; stays & literal", "\\&amp; stays & literal"),
        ("C:\\Users\\me", "C:\\Users\\me"),
        ("ends with \\*", "ends with \\\\\\*"),
        ("line\n---", "line\n\\---"),
        ("===", "\\==="),
    ],
)
def test_text_is_escaped_minimally_and_safely(text: str, expected: str) -> None:
    markdown = adf_to_markdown(doc(p(t(text))))
    assert markdown == expected
    assert text_of(markdown_to_adf(markdown)) == text


def test_heading_trailing_hashes_are_kept() -> None:
    for text in ("Migrate to C#", "Issue #", "###"):
        heading = {"type": "heading", "attrs": {"level": 1}, "content": [t(text)]}
        back = markdown_to_adf(adf_to_markdown(doc(heading)))
        assert text_of(back) == text


def test_whitespace_moves_outside_marks() -> None:
    content = p(t("a"), t(" b ", "strong"), t("c"))
    assert adf_to_markdown(doc(content)) == "a **b** c"


# --------------------------------------------------------------------------------------------
# constructs, Markdown -> ADF


def test_markdown_to_adf_inline_marks() -> None:
    result = markdown_to_adf('Hi **b** *i* `c` ~~s~~ [l](https://x.io "T")')
    assert result == doc(
        p(
            t("Hi "),
            t("b", "strong"),
            t(" "),
            t("i", "em"),
            t(" "),
            t("c", "code"),
            t(" "),
            t("s", "strike"),
            t(" "),
            t("l", link("https://x.io", "T")),
        )
    )


def test_markdown_to_adf_blocks() -> None:
    source = "# Title\n\n- a\n  1. b\n\n```js\nx()\n```\n\n> q\n\n---\n\n| h |\n| - |\n| c |"
    assert markdown_to_adf(source) == doc(
        {"type": "heading", "attrs": {"level": 1}, "content": [t("Title")]},
        {
            "type": "bulletList",
            "content": [
                item(
                    p(t("a")),
                    {"type": "orderedList", "attrs": {"order": 1}, "content": [item(p(t("b")))]},
                )
            ],
        },
        {"type": "codeBlock", "attrs": {"language": "js"}, "content": [t("x()")]},
        {"type": "blockquote", "content": [p(t("q"))]},
        {"type": "rule"},
        {
            "type": "table",
            "content": [
                {"type": "tableRow", "content": [{"type": "tableHeader", "content": [p(t("h"))]}]},
                {"type": "tableRow", "content": [{"type": "tableCell", "content": [p(t("c"))]}]},
            ],
        },
    )


def test_markdown_breaks() -> None:
    assert markdown_to_adf("a\\\nb\nc") == doc(p(t("a"), {"type": "hardBreak"}, t("b\nc")))
    assert markdown_to_adf("a  \nb")["content"][0]["content"][1] == {"type": "hardBreak"}


def test_markdown_to_adf_follows_adf_nesting_rules() -> None:
    quote = markdown_to_adf("> # Heading\n>\n> > nested\n>\n> ---")
    assert quote == doc({"type": "blockquote", "content": [p(t("Heading")), p(t("nested"))]})
    listed = markdown_to_adf("- - deep\n- > quoted")
    first, second = listed["content"][0]["content"]
    assert first["content"][0] == p()
    assert second == item(p(t("quoted")))
    code = markdown_to_adf("**`x`** and [`y`](https://y.io)")
    assert code == doc(p(t("x", "code"), t(" and "), t("y", "code", link("https://y.io"))))


def test_markdown_to_adf_degrades_images_and_html() -> None:
    assert markdown_to_adf("![shot](https://i.io/s.png)") == doc(
        p(t("shot", link("https://i.io/s.png")))
    )
    assert markdown_to_adf("<b>hi</b>") == doc(p(t("<b>hi</b>")))
    assert markdown_to_adf("[x](javascript:alert(1))") == doc(p(t("[x](javascript:alert(1))")))


@pytest.mark.parametrize("value", ["", "   \n\t", None, 42])
def test_empty_inputs(value: Any) -> None:
    assert markdown_to_adf(value) == {"type": "doc", "version": 1, "content": []}
    assert adf_to_markdown(value) == ("" if not isinstance(value, str) else value)


def test_slash_lines_stay_text() -> None:
    source = "/close the issue\n/assign @me"
    assert markdown_to_adf(source) == doc(p(t("/close the issue\n/assign @me")))
    assert adf_to_markdown(markdown_to_adf(source)) == source


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"type": "doc"},
        {"type": "doc", "content": "nope"},
        {"type": "doc", "content": [None, 1, "x", [], {"type": 5}]},
        {"type": "paragraph", "content": [{"type": "text", "text": 7, "marks": "bad"}]},
        {"type": "text", "text": "lone", "marks": [{"type": "link", "attrs": None}]},
        {"type": "heading", "attrs": {"level": "2"}, "content": [{"type": "text", "text": "h"}]},
        {
            "type": "orderedList",
            "attrs": {"order": True},
            "content": [{"type": "text", "text": "x"}],
        },
        {"type": "table", "content": [{"type": "tableRow", "content": "cells"}]},
        {"type": "date", "attrs": {"timestamp": "9" * 40}},
    ],
)
def test_hostile_shapes_do_not_raise(value: dict[str, Any]) -> None:
    assert isinstance(adf_to_markdown(value), str)


def test_deep_and_cyclic_input_is_bounded() -> None:
    deep: dict[str, Any] = {"type": "text", "text": "bottom"}
    for _ in range(5000):
        deep = {"type": "blockquote", "content": [deep]}
    assert adf_to_markdown(doc(deep)).endswith("bottom")
    cyclic: dict[str, Any] = {"type": "paragraph", "content": []}
    cyclic["content"].extend([cyclic, cyclic, {"type": "text", "text": "loop"}])
    assert "loop" in adf_to_markdown(doc(cyclic))


# --------------------------------------------------------------------------------------------
# canonical Markdown generator (for exact round trips)

WORDS = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=6)
URLS = st.sampled_from(["https://example.com", "https://x.io/a-b?q=1", "/relative/path"])
CODE_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + " *_[]#<>!|\\~&-+.", min_size=1, max_size=8
).filter(lambda s: s.strip() == s)
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\\\n"])


@st.composite
def inline(draw: st.DrawFn, active: frozenset[str] = frozenset(), single_line: bool = False) -> str:
    """Words and marked spans; every span starts and ends with a word, so nesting is canonical."""
    count = draw(st.integers(1, 4))
    parts: list[str] = []
    for index in range(count):
        edge = index in (0, count - 1) and bool(active)
        parts.append(draw(WORDS) if edge else draw(span(active, single_line)))
    out = parts[0]
    for before, after in pairwise(parts):
        separator = " " if single_line else draw(SEPARATORS)
        if separator == "\\\n" and before[-1] in "*~)" and after[0] in "*~[":
            separator = " "  # marks on both sides of a hard break merge into one span in ADF
        out += separator + after
    return out


@st.composite
def span(draw: st.DrawFn, active: frozenset[str], single_line: bool) -> str:
    choices = ["word", "word"] + ([] if "link" in active else ["auto"])
    choices += [m for m in ("strong", "em", "strike", "link") if m not in active]
    if len(active) < 3:
        choices += ["code"] if active <= {"link"} else []
    kind = draw(st.sampled_from(choices))
    if kind == "word":
        return draw(WORDS)
    if kind == "auto":
        return "<https://example.com/" + draw(WORDS) + ">"
    if kind == "code":
        return "`" + draw(CODE_TEXT) + "`"
    inner = draw(inline(active | {kind}, single_line))
    if kind == "link":
        return f"[{inner}]({draw(URLS)})"
    delimiter = {"strong": "**", "em": "*", "strike": "~~"}[kind]
    return delimiter + inner + delimiter


CODE_BODY = st.text(alphabet=string.ascii_letters + " \n#>-*|", max_size=20)


@st.composite
def code_block(draw: st.DrawFn) -> str:
    language = draw(st.sampled_from(["", "python", "js"]))
    body = draw(CODE_BODY)
    return f"```{language}\n{body}\n```" if body else f"```{language}\n```"


def indent(marker: str, text: str) -> str:
    pad = " " * len(marker)
    first, *rest = text.split("\n")
    return "\n".join([marker + first, *[pad + line if line else "" for line in rest]])


@st.composite
def list_block(draw: st.DrawFn, depth: int, ordered: bool, alternate: bool) -> tuple[str, bool]:
    """A list and whether it may follow a paragraph line directly (tight)."""
    start = draw(st.sampled_from([1, 1, 3, 10])) if ordered else 1
    items = []
    for index in range(draw(st.integers(1, 3))):
        marker = (
            f"{start + index}{')' if alternate else '.'} "
            if ordered
            else ("* " if alternate else "- ")
        )
        first = draw(st.one_of(inline(), code_block()) if depth < 2 else inline())
        body = first
        previous_is_paragraph = not first.startswith("```")
        if depth < 2 and draw(st.booleans()):
            kind = draw(st.booleans())
            nested, tight = draw(list_block(depth + 1, kind, False))
            body += ("\n" if tight and previous_is_paragraph else "\n\n") + nested
            previous_is_paragraph = False
        if draw(st.booleans()):
            body += "\n\n" + draw(inline())
        items.append(indent(marker, body))
    return "\n".join(items), start == 1


@st.composite
def table(draw: st.DrawFn) -> str:
    width = draw(st.integers(1, 3))
    cell = st.one_of(st.just(""), inline(single_line=True).map(lambda s: s.replace("|", "\\|")))
    rows = [[draw(cell) for _ in range(width)] for _ in range(draw(st.integers(1, 3)))]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join(["---"] * width) + " |")
    return "\n".join(lines)


@st.composite
def quote(draw: st.DrawFn) -> str:
    blocks = draw(st.lists(st.one_of(inline(), code_block()), min_size=1, max_size=3))
    inner = "\n\n".join(blocks)
    return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))


@st.composite
def markdown_document(draw: st.DrawFn) -> str:
    blocks: list[str] = []
    previous = ""
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(
            st.sampled_from(["para", "heading", "code", "quote", "rule", "table", "ul", "ol"])
        )
        if kind == "para":
            blocks.append(draw(inline()))
        elif kind == "heading":
            blocks.append("#" * draw(st.integers(1, 6)) + " " + draw(inline(single_line=True)))
        elif kind == "code":
            blocks.append(draw(code_block()))
        elif kind == "quote":
            blocks.append(draw(quote()))
        elif kind == "rule":
            blocks.append("---")
        elif kind == "table":
            blocks.append(draw(table()))
        else:
            alternate = previous == kind + "/default"
            blocks.append(draw(list_block(0, kind == "ol", alternate))[0])
            kind += "/alternate" if alternate else "/default"
        previous = kind
    return "\n\n".join(blocks)


@settings(max_examples=300, deadline=None)
@given(markdown_document())
def test_round_trip_of_canonical_markdown_is_exact(markdown: str) -> None:
    assert adf_to_markdown(markdown_to_adf(markdown)) == markdown


# --------------------------------------------------------------------------------------------
# properties on arbitrary input

PRINTABLE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    max_size=40,
) | st.text(alphabet=string.printable, max_size=40)


def squash(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=400, deadline=None)
@given(PRINTABLE | st.text(alphabet="*_`[]()<>#-+>|~!\\&;: \t1.", max_size=40), st.data())
def test_one_text_node_reads_like_the_same_text_in_two(text: str, data: st.DataObject) -> None:
    # One unmarked text node takes a shorter path than a run of several: same Markdown.
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    whole, halves = [t(text)], [t(text[:cut]), t(text[cut:])]

    def shapes(content: list[Any]) -> list[dict[str, Any]]:
        cell = {"type": "tableCell", "content": [p(*content)]}
        return [
            p(*content),
            {"type": "heading", "attrs": {"level": 2}, "content": content},
            {"type": "table", "content": [{"type": "tableRow", "content": [cell]}]},
        ]

    for one, two in zip(shapes(whole), shapes(halves), strict=True):
        assert adf_to_markdown(doc(one)) == adf_to_markdown(doc(two))


@settings(max_examples=400, deadline=None)
@given(PRINTABLE)
def test_any_text_survives_adf_to_markdown_and_back(text: str) -> None:
    markdown = adf_to_markdown(doc(p(t(text)))) if text else ""
    back = markdown_to_adf(markdown)
    assert squash(text_of(back)) == squash(text)
    assert all("marks" not in n for n in walk(back)), markdown
    assert [n["type"] for n in back["content"]] in ([], ["paragraph"])
    assert adf_to_markdown(back) == markdown


MARK_SETS = st.lists(
    st.sampled_from(["strong", "em", "strike", "code", "link"]), unique=True, max_size=3
)


@st.composite
def marked_text(draw: st.DrawFn) -> dict[str, Any]:
    marks: list[Any] = []
    chosen = draw(MARK_SETS)
    if "code" in chosen:  # valid ADF: code combines with link only
        chosen = [m for m in chosen if m in ("code", "link")]
    for mark in chosen:
        marks.append(link("https://example.com") if mark == "link" else mark)
    return t(draw(PRINTABLE.filter(bool)), *marks)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(marked_text(), st.just({"type": "hardBreak"})), max_size=6))
def test_marked_text_keeps_its_characters_and_is_stable(content: list[Any]) -> None:
    markdown = adf_to_markdown(doc(p(*content)))
    back = markdown_to_adf(markdown)
    assert squash(text_of(back)) == squash(text_of(p(*content)))
    assert adf_to_markdown(back) == markdown


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)
NODE_TYPES = st.sampled_from(
    [
        "doc", "paragraph", "text", "heading", "bulletList", "orderedList", "listItem",
        "codeBlock", "blockquote", "rule", "panel", "table", "tableRow", "tableHeader",
        "tableCell", "mediaSingle", "media", "mention", "emoji", "inlineCard", "hardBreak",
        "date", "status", "expand", "taskList", "taskItem", "mystery",
    ]
)  # fmt: skip
ADFISH = st.recursive(
    st.fixed_dictionaries(
        {"type": NODE_TYPES},
        optional={"text": st.text(max_size=8) | JSONISH, "attrs": JSONISH, "marks": JSONISH},
    ),
    lambda inner: st.fixed_dictionaries(
        {"type": NODE_TYPES, "content": st.lists(inner, max_size=4) | JSONISH},
        optional={
            "attrs": st.dictionaries(
                st.sampled_from(["level", "order", "language", "panelType", "url", "text"]),
                JSONISH,
            ),
            "marks": st.lists(st.fixed_dictionaries({"type": NODE_TYPES, "attrs": JSONISH})),
        },
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(ADFISH | JSONISH)
def test_adf_to_markdown_never_raises(value: Any) -> None:
    assert isinstance(adf_to_markdown(value), str)


@settings(max_examples=400, deadline=None)
@given(PRINTABLE | st.text(alphabet="*_`[]()<>#-+>|~!\\ \n\t1.:=", max_size=60))
def test_markdown_to_adf_is_valid_for_any_text(text: str) -> None:
    result = markdown_to_adf(text)
    assert result["type"] == "doc"
    assert result["version"] == 1
    assert isinstance(result["content"], list)
    for node in walk(result):
        if node["type"] == "text":
            assert node["text"], result
    assert isinstance(adf_to_markdown(result), str)
