"""Fixtures for the Jira adapter tests: an emulator per test, a tracker, and its control API."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from jira_env import FAST, JiraEnv, settings

from testkase_cli.sandbox.core import App
from testkase_cli.sandbox.jira import create_app
from testkase_cli.sandbox.jira_store import SANDBOX_TOKEN
from testkase_cli.trackers.jira import open_jira


@pytest.fixture(params=["cloud", "server"])
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def jira(serve: Callable[[App], str], flavor: str) -> Iterator[JiraEnv]:
    app = create_app(flavor=flavor, seed=7)
    url = serve(app)
    tracker = open_jira(settings(url, flavor), SANDBOX_TOKEN, policy=FAST)
    control = httpx.Client(base_url=url, timeout=30)
    env = JiraEnv(flavor, url, app, tracker, control, [])
    yield env
    for extra in [tracker, *env._extra]:
        extra.close()
    control.close()
