"""Jira wiki markup <-> Markdown: real webhook bodies, constructs, and property tests."""

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
from testkase_cli.domain.markup.wiki import markdown_to_wiki, wiki_to_markdown

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "jira"


def sample(name: str) -> Any:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"shared Jira sample {path} is not present beside the repository")
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# real webhook comment bodies


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("webhook-server-8.14-comment_created.real.json", "(Valentijn Scholten):test4"),
        ("webhook-cloud-comment_created.real.json", "ttt"),
    ],
)
def test_real_webhook_comment_bodies(name: str, expected: str) -> None:
    body = sample(name)["comment"]["body"]
    assert wiki_to_markdown(body) == expected
    assert markdown_to_wiki(wiki_to_markdown(body)) == body


# --------------------------------------------------------------------------------------------
# wiki -> Markdown, per construct


@pytest.mark.parametrize(
    ("wiki", "markdown"),
    [
        ("plain text", "plain text"),
        ("one\n\ntwo", "one\n\ntwo"),
        ("line one\nline two", "line one\nline two"),
        ("h1. Title", "# Title"),
        ("h3. Third *bold*", "### Third **bold**"),
        ("*bold* _italic_ -struck- {{mono}}", "**bold** *italic* ~~struck~~ `mono`"),
        ("+under+ ^sup^ ~sub~ ??cite??", "under sup sub *cite*"),
        ("un{*}believ{*}able", "un**believ**able"),
        ("*bold _both_*", "**bold *both***"),
        ("a - b - c and well-known", "a - b - c and well-known"),
        ("snake_case_name", "snake_case_name"),
        ("[Example|https://example.com]", "[Example](https://example.com)"),
        ("[https://example.com/x]", "<https://example.com/x>"),
        ("[*bold link*|https://example.com]", "[**bold link**](https://example.com)"),
        ("[Regression] found", "[Regression] found"),
        ("[~jdoe] please look", "@jdoe please look"),
        ("[~accountid:5b10a2844c20165700ede21g] ping", "@5b10a2844c20165700ede21g ping"),
        ("see [^log.txt]", "see [attachment: log.txt]"),
        ("!screenshot.png|thumbnail!", "[attachment: screenshot.png]"),
        ("Wow! Great!", "Wow! Great!"),
        ("first\\\\second", "first\\\nsecond"),
        ("\\*not bold\\* and \\[x]", "\\*not bold\\* and [x]"),
        ("{color:red}red{color} text", "red text"),
        ("&#42; star", "\\* star"),
        ("----", "---"),
        ("bq. quoted", "> quoted"),
        ("{quote}\nfirst\n\nsecond\n{quote}", "> first\n>\n> second"),
        ("{code:python}\nx = 1\n{code}", "```python\nx = 1\n```"),
        ("{code}\nplain\n{code}", "```\nplain\n```"),
        ("{code:title=Foo.java|borderStyle=solid}\nint x;\n{code}", "```\nint x;\n```"),
        ("{noformat}\n*raw* {{x}}\n{noformat}", "```\n*raw* {{x}}\n```"),
        ("{info}\nHeads up\n{info}", "> **Info:** Heads up"),
        ("{warning:title=Careful}\nHot\n{warning}", "> **Careful:** Hot"),
        ("{panel}\n* item\n{panel}", "> **Panel:**\n>\n> - item"),
        ("/deploy now", "/deploy now"),
    ],
)
def test_wiki_to_markdown_constructs(wiki: str, markdown: str) -> None:
    assert wiki_to_markdown(wiki) == markdown


def test_wiki_lists_nested_and_mixed() -> None:
    wiki = "* a\n** b\n* c\n# one\n#* inner\n# two\n- dash"
    assert wiki_to_markdown(wiki) == ("- a\n  - b\n- c\n\n1. one\n   - inner\n2. two\n\n- dash")


def test_wiki_list_item_continues_on_plain_lines() -> None:
    assert wiki_to_markdown("* first\nstill first\n* second") == (
        "- first\n  still first\n- second"
    )


def test_wiki_tables() -> None:
    wiki = "||Step||Result||\n|open [x|http://x.io]|*ok*|\n|!a.png|thumbnail!| |"
    assert wiki_to_markdown(wiki) == (
        "| Step | Result |\n| --- | --- |\n| open [x](http://x.io) | **ok** |\n"
        "| [attachment: a.png] |  |"
    )


def test_unclosed_and_broken_markup_stays_text() -> None:
    assert wiki_to_markdown("*not closed and {code} never ends") == (
        "\\*not closed and {code} never ends"
    )
    assert wiki_to_markdown("{code}\nno end") == "```\nno end\n```"
    assert (
        wiki_to_markdown("[|] and [ ] and !! and {unknown}") == "[|] and [ ] and !! and {unknown}"
    )


# --------------------------------------------------------------------------------------------
# Markdown -> wiki, per construct


@pytest.mark.parametrize(
    ("markdown", "wiki"),
    [
        ("# Title", "h1. Title"),
        ("###### Six", "h6. Six"),
        ("**b** *i* ~~s~~ `c`", "*b* _i_ -s- {{c}}"),
        ("un**believ**able", "un{*}believ{*}able"),
        ('[docs](https://x.io "T")', "[docs|https://x.io]"),
        ("<https://x.io/a>", "[https://x.io/a]"),
        ("[a b](https://x.io/a|b)", "[a b|https://x.io/a%7Cb]"),
        ("a\\\nb", "a\\\\b"),
        ("a\nb", "a\nb"),
        ("- a\n  - b\n- c", "* a\n** b\n* c"),
        ("3. x\n4. y", "# x\n# y"),
        ("1. x\n   - y", "# x\n#* y"),
        ("```python\nx = 1\n```", "{code:python}\nx = 1\n{code}"),
        ("```\nplain\n```", "{noformat}\nplain\n{noformat}"),
        ("```js\n{code}\n```", "{noformat}\n{code}\n{noformat}"),
        ("> quoted\n>\n> - item", "{quote}\nquoted\n\n* item\n{quote}"),
        ("---", "----"),
        ("| h | i |\n| - | - |\n| 1 |  |", "||h||i||\n|1| |"),
        ("snake_case and 2 * 3 and a-b", "snake_case and 2 * 3 and a-b"),
        ("-x and *y* and \\[z] and {w}", "\\-x and _y_ and \\[z] and \\{w\\}"),
        ("\\- dash line\n\\# hash", "\\- dash line\n\\# hash"),
        ("h1\\. not a heading", "h1\\. not a heading"),
        ("C:\\\\Users and \\\\\\*", "C:\\Users and &#92;\\*"),
        ("/close the issue", "/close the issue"),
    ],
)
def test_markdown_to_wiki_constructs(markdown: str, wiki: str) -> None:
    assert markdown_to_wiki(markdown) == wiki


def test_markdown_mentions_stay_text() -> None:
    assert markdown_to_wiki("ping @jdoe") == "ping @jdoe"
    assert wiki_to_markdown(markdown_to_wiki("ping @jdoe")) == "ping @jdoe"


@pytest.mark.parametrize("value", ["", "  \n ", None, 7])
def test_empty_inputs(value: Any) -> None:
    assert wiki_to_markdown(value) == ""
    assert markdown_to_wiki(value) == ""


def test_deeply_nested_wiki_is_bounded() -> None:
    nested = "{quote}\n{panel}\n" * 200 + "core"
    assert wiki_to_markdown(nested).endswith("core")
    assert wiki_to_markdown("*" * 5000 + "x").endswith("x")
    assert wiki_to_markdown("[" * 3000 + "x" + "]" * 3000).count("x") == 1
    assert wiki_to_markdown("{{" * 5000).count("{") == 10000


# --------------------------------------------------------------------------------------------
# round trip of canonical Markdown through wiki markup

WORDS = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=6)
URLS = st.sampled_from(["https://example.com", "https://x.io/a-b?q=1", "/relative/path"])
CODE_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + " *_[]#<>!|\\~&-+.{}", min_size=1, max_size=8
).filter(lambda s: s.strip() == s and "`" not in s)


@st.composite
def inline(draw: st.DrawFn, active: frozenset[str] = frozenset(), single_line: bool = False) -> str:
    count = draw(st.integers(1, 4))
    parts = []
    for index in range(count):
        edge = index in (0, count - 1) and bool(active)
        parts.append(draw(WORDS) if edge else draw(span(active, single_line)))
    separators = [" "] if single_line else [" ", " ", "\\\n"] + ([] if active else ["\n"])
    out = parts[0]
    for before, after in pairwise(parts):
        separator = draw(st.sampled_from(separators))
        if separator == "\\\n" and before[-1] in "*~)" and after[0] in "*~[":
            separator = " "
        out += separator + after
    return out


@st.composite
def span(draw: st.DrawFn, active: frozenset[str], single_line: bool) -> str:
    choices = ["word", "word"] + ([] if "link" in active else ["auto"])
    choices += [m for m in ("strong", "em", "strike", "link") if m not in active]
    choices += ["code"] if active <= {"link"} else []
    kind = draw(st.sampled_from(choices))
    if kind == "word":
        return draw(WORDS)
    if kind == "auto":
        return "<https://example.com/" + draw(WORDS) + ">"
    if kind == "code":
        code = draw(CODE_TEXT)
        return "`" + (code.replace("|", "\\|") if single_line else code) + "`"
    inner = draw(inline(active | {kind}, single_line))
    if kind == "link":
        return f"[{inner}]({draw(URLS)})"
    delimiter = {"strong": "**", "em": "*", "strike": "~~"}[kind]
    return delimiter + inner + delimiter


@st.composite
def code_block(draw: st.DrawFn) -> str:
    language = draw(st.sampled_from(["", "python", "js"]))
    body = draw(st.text(alphabet=string.ascii_letters + " \n#>-*|", max_size=20))
    return f"```{language}\n{body}\n```" if body else f"```{language}\n```"


@st.composite
def list_block(draw: st.DrawFn, depth: int, ordered: bool, alternate: bool) -> str:
    items = []
    for index in range(draw(st.integers(1, 3))):
        marker = (
            f"{index + 1}{')' if alternate else '.'} " if ordered else ("* " if alternate else "- ")
        )
        body = draw(inline())
        if depth < 2 and draw(st.booleans()):
            body += "\n" + draw(list_block(depth + 1, draw(st.booleans()), False))
        pad = " " * len(marker)
        first, *rest = body.split("\n")
        items.append("\n".join([marker + first, *[pad + line for line in rest]]))
    return "\n".join(items)


@st.composite
def table(draw: st.DrawFn) -> str:
    width = draw(st.integers(1, 3))
    cell = st.one_of(st.just(""), inline(single_line=True))
    rows = [[draw(cell) for _ in range(width)] for _ in range(draw(st.integers(1, 3)))]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join(["---"] * width) + " |")
    return "\n".join(lines)


@st.composite
def quote(draw: st.DrawFn) -> str:
    blocks: list[str] = []
    previous = ""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["para", "code", "ul", "ol"]))
        if kind == "para":
            blocks.append(draw(inline()))
        elif kind == "code":
            blocks.append(draw(code_block()))
        else:
            alternate = previous == kind + "/default"
            blocks.append(draw(list_block(0, kind == "ol", alternate)))
            kind += "/alternate" if alternate else "/default"
        previous = kind
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
            blocks.append(draw(list_block(0, kind == "ol", alternate)))
            kind += "/alternate" if alternate else "/default"
        previous = kind
    return "\n\n".join(blocks)


@settings(max_examples=300, deadline=None)
@given(markdown_document())
def test_round_trip_of_canonical_markdown_through_wiki_is_exact(markdown: str) -> None:
    assert wiki_to_markdown(markdown_to_wiki(markdown)) == markdown


# --------------------------------------------------------------------------------------------
# properties on arbitrary input

PRINTABLE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    max_size=40,
) | st.text(alphabet=string.printable, max_size=40)
WIKI_NOISE = st.text(alphabet="*_-+^~?{}[]|!#\\&;:/ \nabh1.q|code:quote}noformat", max_size=80)


def squash(text: str) -> str:
    return "".join(text.split())


def text_of(node: Any) -> str:
    parts: list[str] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            parts.append(cur.get("text", "") if cur.get("type") == "text" else "")
            stack.extend(reversed(cur.get("content", [])))
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(PRINTABLE)
def test_any_text_survives_wiki_and_back(text: str) -> None:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]} if text else {}
    markdown = adf_to_markdown({"type": "doc", "content": [paragraph]} if text else {})
    wiki = markdown_to_wiki(markdown)
    back = wiki_to_markdown(wiki)
    assert squash(text_of(markdown_to_adf(back))) == squash(text), wiki
    assert back == markdown


@settings(max_examples=400, deadline=None)
@given(PRINTABLE | WIKI_NOISE)
def test_wiki_to_markdown_never_raises_and_is_stable(text: str) -> None:
    markdown = wiki_to_markdown(text)
    assert isinstance(markdown, str)
    once = wiki_to_markdown(markdown_to_wiki(markdown))  # normalises hrefs, ADF nesting
    assert wiki_to_markdown(markdown_to_wiki(once)) == once


@settings(max_examples=300, deadline=None)
@given(PRINTABLE | st.text(alphabet="*_`[]()<>#-+>|~!\\ \n\t1.:=", max_size=60))
def test_markdown_to_wiki_never_raises(text: str) -> None:
    assert isinstance(markdown_to_wiki(text), str)
