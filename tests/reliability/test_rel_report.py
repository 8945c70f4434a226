"""Nothing from the tracker is executed or rendered unescaped in the HTML report.

Requirement titles and descriptions, defect titles and comments that arrive from the
tracker carry markup, event handlers and `javascript:` links; the report must show them
as text: no <script>, no on* attribute, no link other than http(s), and the hostile text
readable as text.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from tests.reliability.conftest import LONG, Tracker
from tests.reliability.rel_support import cli_ok

HOSTILE = [
    "<script>alert('title')</script>",
    '"><img src=x onerror=alert(1)>',
    "<a href=\"javascript:alert('x')\">click</a>",
    "</td></tr></table><iframe src=//evil.example></iframe>",
    "<svg onload=alert(1)>",
    "{{7*7}} ${7*7} <!-- -->",
]


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize(
    "tracker", ["gitlab", "jira-server", "jira-cloud"] if LONG else ["gitlab"], indirect=True
)
def test_tracker_text_is_shown_as_text_in_the_html_report(tracker: Tracker) -> None:
    assert tracker.sync()["exit"] == 0
    reqs = cli_ok(tracker, "req", "list", "--json").json
    for req, payload in zip(reqs, HOSTILE, strict=False):
        tracker.edit(req["external"]["id"], title=f"Req {payload}", description=payload)
    assert tracker.sync()["exit"] == 0
    cli_ok(tracker, "case", "add", "Case <b>bold</b> <script>alert(2)</script>")
    for req in reqs[: len(HOSTILE)]:
        cli_ok(tracker, "link", "TC-1", req["id"])
    cli_ok(tracker, "cycle", "add", "Cycle <script>alert(3)</script>")
    cli_ok(tracker, "exec", "CY-1", "TC-1", "--result", "failed", "--defect", HOSTILE[1])
    out = tracker.workdir / "report.html"
    cli_ok(tracker, "report", "--format", "html", "-o", str(out))
    page = out.read_text(encoding="utf-8")

    parser = Tags()
    parser.feed(page)
    names = [tag for tag, _ in parser.tags]
    for forbidden in ("script", "iframe", "img", "object", "embed", "form", "base"):
        assert forbidden not in names, forbidden
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src", "xlink:href", "action"):
                assert (value or "").startswith(("http://", "https://", "#")), (tag, value)
    text = "".join(parser.text)
    for payload in HOSTILE:
        assert f"Req {payload}" in text, payload
    assert "<script>alert(3)</script>" in text
