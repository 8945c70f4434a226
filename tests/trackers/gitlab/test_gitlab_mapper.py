"""Text sent to GitLab never runs quick actions and reads back as written."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from testkase_cli.sandbox import gitlab_quick
from testkase_cli.trackers.gitlab import mapper

COMMANDS = ["/close", "/reopen", "/label ~bug", "/unlabel", "/title x", "/CLOSE", "/relabel ~a"]
lines = st.one_of(
    st.sampled_from(COMMANDS),
    st.sampled_from(["```", "``` python", "plain text", "", "  /close indented", "a /close"]),
    st.text(alphabet=st.characters(blacklist_characters="\r\n\\"), max_size=30),
)
texts = st.lists(lines, max_size=12).map("\n".join)


@given(texts)
def test_escaped_text_runs_no_quick_action_and_reads_back_unchanged(text: str) -> None:
    sent = mapper.compose(text, "tk-1")
    assert gitlab_quick.extract(sent).commands == []
    body, marker = mapper.split_marker(sent)
    assert (body, marker) == (text.rstrip(), "tk-1")


def test_escaping_renders_the_same_and_spares_code_fences() -> None:
    text = "/close\nok\n```\n/usr/bin/env\n```\n/label ~bug"
    assert mapper.escape_commands(text) == "\\/close\nok\n```\n/usr/bin/env\n```\n\\/label ~bug"
    unclosed = "```\n/close"  # GitLab runs commands after a fence that never closes
    assert mapper.escape_commands(unclosed) == "```\n\\/close"


def test_the_marker_is_the_last_html_comment_line() -> None:
    text = "Body\r\n\r\n<!-- testkase-marker: DEF-1 -->\r\n"
    assert mapper.split_marker(text) == ("Body", "DEF-1")
    assert mapper.split_marker(None) == ("", None)
    assert mapper.split_marker("no marker here") == ("no marker here", None)


def test_priority_is_the_highest_priority_label_whatever_the_order() -> None:
    assert mapper.priority_of(("priority::low", "priority::high", "bug")) == "high"
    assert mapper.priority_of(("priority::urgent", "priority::low")) == "low"
    assert mapper.priority_of(("priority::b", "priority::a")) == "a"
    assert mapper.priority_of(("priority::sub::x", "bug")) is None  # scope is priority::sub
    assert mapper.priority_of(()) is None


def test_move_notes_name_the_target_from_the_old_project() -> None:
    assert mapper.moved_target("moved to other#3", "demo/web") == ("demo/other", 3)
    assert mapper.moved_target("moved to qa/archive#1", "demo/web") == ("qa/archive", 1)
    assert mapper.moved_target("moved to a/b/c#12", "g/sub/p") == ("a/b/c", 12)
    assert mapper.moved_target("moved to other#3", "g/sub/p") == ("g/sub/other", 3)
    assert mapper.moved_target("changed the description", "demo/web") is None


def test_times_with_any_offset_become_utc() -> None:
    expected = datetime(2026, 8, 4, 9, 51, 58, 172000, tzinfo=UTC)
    assert mapper.parse_time("2026-08-04T11:51:58.172+02:00") == expected
    assert mapper.parse_time("2026-08-04T09:51:58.172Z") == expected
    assert mapper.parse_time("2015-05-17 17:06:40 UTC") == datetime(
        2015, 5, 17, 17, 6, 40, tzinfo=UTC
    )
    since = datetime(2026, 8, 4, 11, 51, 58, 999000, tzinfo=UTC)
    assert mapper.format_since(since) == "2026-08-04T11:51:58Z"  # floored: the window widens
