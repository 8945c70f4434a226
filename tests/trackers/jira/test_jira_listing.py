"""25,000 requirements listed exactly once, with a bounded number of requests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from jira_env import JiraEnv, start_env

from testkase_cli.sandbox.core import App, Server

COUNT = 25_000
SEEDED = 12  # the default dataset's requirements in PROJ
# Cloud: 1 page with fields, 5 pages of ids (5000 each), 250 bulkfetch batches of 100.
# Server: the newest 1000, then id ranges of 1000 (the capped page size) in 3 segments
# (26 pages, and a partly filled last page per segment), then what changed meanwhile.
MAX_LIST_REQUESTS = {"cloud": 1 + 6 + 251, "server": 1 + 26 + 2 + 1}
MAX_ID_REQUESTS = {"cloud": 6, "server": 26}


@pytest.fixture(scope="module", params=["cloud", "server"])
def bulk(request: pytest.FixtureRequest) -> Iterator[tuple[JiraEnv, set[str]]]:
    servers: list[Server] = []

    def serve(app: App) -> str:
        server = Server(app)
        servers.append(server)
        return server.start()

    env = start_env(serve, str(request.param), seed=11)
    env.post("seed", {"count": COUNT, "seed": 5, "labels": ["bulk"]})
    expected = {row["id"] for row in env.issues("bulk")}
    yield env, expected
    env.close()
    for server in servers:
        server.stop()


def test_every_requirement_is_listed_exactly_once(bulk: tuple[JiraEnv, set[str]]) -> None:
    env, expected = bulk
    before = env.tracker.list_requests
    listed = list(env.tracker.iter_requirements(updated_since=None))
    ids = [issue.id for issue in listed]
    assert len(ids) == len(set(ids)) == COUNT + SEEDED
    assert expected <= set(ids)
    if env.flavor == "cloud":  # Server reads id ranges (test_jira_server_listing.py)
        assert all(a.updated <= b.updated for a, b in itertools.pairwise(listed))
    assert env.tracker.list_requests - before <= MAX_LIST_REQUESTS[env.flavor]


def test_requirement_ids_take_the_cheapest_listing(bulk: tuple[JiraEnv, set[str]]) -> None:
    env, expected = bulk
    before = env.tracker.list_requests
    ids = list(env.tracker.iter_requirement_ids())
    assert len(ids) == len(set(ids)) == COUNT + SEEDED
    assert expected <= set(ids)
    assert env.tracker.list_requests - before <= MAX_ID_REQUESTS[env.flavor]


def test_stopping_early_does_not_fetch_everything(bulk: tuple[JiraEnv, set[str]]) -> None:
    env, _ = bulk
    before = env.tracker.list_requests
    first = next(iter(env.tracker.iter_requirements(updated_since=None)))
    assert first.key.startswith("PROJ-")
    assert env.tracker.list_requests - before == 1
