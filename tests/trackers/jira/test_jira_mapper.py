"""Pure parts of the Jira adapter: priority levels, markers, timestamps, workflow walking."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from testkase_cli.domain.models import DefectPriority as P
from testkase_cli.errors import RejectedError
from testkase_cli.trackers.jira.mapper import (
    AdfCodec,
    WikiCodec,
    closest_levels,
    comment_from_json,
    parse_time,
)
from testkase_cli.trackers.jira.workflow import MAX_HOPS, Step, Walker, steps_from_json


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (
            ["Highest", "High", "Medium", "Low", "Lowest"],
            ["Highest", "High", "Medium", "Low", "Lowest"],
        ),
        (
            ["Blocker", "Critical", "Major", "Minor"],
            ["Blocker", "Critical", "Major", "Minor", "Minor"],
        ),
        (["Highest", "Medium", "Lowest"], ["Highest", "Highest", "Medium", "Medium", "Lowest"]),
        (["P1", "P2", "P3"], ["P1", "P1", "P2", "P3", "P3"]),
    ],
)
def test_defect_priorities_take_the_closest_level(levels: list[str], expected: list[str]) -> None:
    mapping = closest_levels(levels)
    assert [mapping[p] for p in P] == expected


def test_no_priorities_no_mapping() -> None:
    assert closest_levels([]) == {}


def test_adf_marker_is_the_last_paragraph_and_is_split_off() -> None:
    codec = AdfCodec()
    doc = codec.from_markdown("", "tk_DEF-1*x")
    assert doc["content"][-1] == {
        "type": "paragraph",
        "content": [{"type": "text", "text": "testkase-marker: tk_DEF-1*x"}],
    }
    assert codec.to_markdown(doc) == ("", "tk_DEF-1*x")
    assert codec.to_markdown(None) == ("", None)
    plain = {"type": "doc", "version": 1, "content": []}
    assert codec.to_markdown(plain) == ("", None)


def test_wiki_marker_survives_wiki_special_characters() -> None:
    codec = WikiCodec()
    body = codec.from_markdown("", "tk_a*b{c}")
    assert body == "testkase-marker: tk\\_a\\*b\\{c\\}"
    assert codec.to_markdown(body) == ("", "tk_a*b{c}")
    assert codec.to_markdown(None) == ("", None)


def test_jira_timestamps_carry_the_users_offset() -> None:
    assert parse_time("2021-08-11T13:19:06.887+0300") == datetime(
        2021, 8, 11, 10, 19, 6, 887000, tzinfo=UTC
    )
    assert parse_time("2019-05-13T09:09:08.237-0500").hour == 14
    assert parse_time(None) == datetime(1970, 1, 1, tzinfo=UTC)


def test_webhook_comments_from_cloud_and_server_captures(shared_dir: Path) -> None:
    samples = shared_dir / "samples" / "jira"
    cloud = json.loads((samples / "webhook-cloud-comment_created.real.json").read_text())
    comment = comment_from_json(cloud["comment"], codec=WikiCodec())  # v2 shape even on Cloud
    assert (comment.id, comment.author, comment.marker) == ("10274", "Veniamin Smorodinsky", None)
    assert comment.created == datetime(2021, 8, 11, 10, 19, 6, 887000, tzinfo=UTC)
    server = json.loads((samples / "webhook-server-8.14-comment_created.real.json").read_text())
    assert comment_from_json(server["comment"], codec=WikiCodec()).author == "Defect Dojo"


def test_transitions_of_the_official_example(shared_dir: Path) -> None:
    path = shared_dir / "samples" / "jira" / "cloud-v3-transitions-get.official-example.json"
    steps = steps_from_json(json.loads(path.read_text()))
    assert [(s.id, s.name, s.to, s.required) for s in steps] == [
        ("2", "Close Issue", "In Progress", {}),
        ("711", "QA Review", "Closed", {}),
    ]


class FakeIssue:
    """A workflow as a dict; `moves` records every transition taken."""

    def __init__(self, workflow: dict[str, list[str]], status: str) -> None:
        self.workflow = workflow
        self.status = status
        self.moves: list[str] = []

    def transitions(self) -> list[Step]:
        return [Step(f"{self.status}>{to}", to, to, None) for to in self.workflow[self.status]]

    def apply(self, step: Step) -> None:
        self.status = step.to
        self.moves.append(step.to)


def walk(issue: FakeIssue, target: str, graph: dict[str, list[Step]] | None = None) -> None:
    Walker({} if graph is None else graph, issue.transitions, issue.apply, {}).walk(
        issue.status, target
    )


def test_walker_learns_the_graph_and_reuses_it() -> None:
    flow = {"A": ["B"], "B": ["C", "A"], "C": ["A"]}
    issue = FakeIssue(flow, "A")
    graph: dict[str, list[Step]] = {}
    walk(issue, "C", graph)
    assert issue.moves == ["B", "C"]
    issue.moves.clear()
    walk(issue, "B", graph)  # C -> A -> B, known from the first walk
    assert issue.moves == ["A", "B"]


def test_walker_gives_up_after_the_hop_limit_and_walks_back() -> None:
    chain = ["S0", "S1", "S2", "S3", "S4", "S5"]
    flow = {a: [b, "S0"] if a != "S0" else [b] for a, b in itertools.pairwise(chain)}
    flow["S5"] = ["S0"]
    issue = FakeIssue(flow, "S0")
    with pytest.raises(RejectedError, match=f"not reached within {MAX_HOPS} transitions"):
        walk(issue, "S5")
    assert issue.status == "S0" and len(issue.moves) == MAX_HOPS + 1
