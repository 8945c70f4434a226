"""Fixtures for the Jira adapter tests: an emulator per test, a tracker, and its control API."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from jira_env import JiraEnv, start_env

from testkase_cli.sandbox.core import App


@pytest.fixture(params=["cloud", "server"])
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def jira(serve: Callable[[App], str], flavor: str) -> Iterator[JiraEnv]:
    env = start_env(serve, flavor)
    yield env
    env.close()


@pytest.fixture
def cloud_jira(serve: Callable[[App], str]) -> Iterator[JiraEnv]:
    env = start_env(serve, "cloud")
    yield env
    env.close()
