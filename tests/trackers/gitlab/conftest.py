"""The GitLab adapter against the emulator over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from gitlab_support import FAST, Control, TrackerFactory

from testkase_cli.domain.models import ConnectionSettings
from testkase_cli.sandbox.gitlab import SANDBOX_TOKEN, GitLabApp, create_app
from testkase_cli.trackers.gitlab import GitLabTracker, open_gitlab
from testkase_cli.trackers.http import RetryPolicy


@pytest.fixture
def app() -> GitLabApp:
    return create_app(seed=1)


@pytest.fixture
def base_url(serve: Callable[[GitLabApp], str], app: GitLabApp) -> str:
    return serve(app)


@pytest.fixture
def control(base_url: str) -> Control:
    return Control(base_url)


@pytest.fixture
def make_tracker(base_url: str) -> Iterator[TrackerFactory]:
    opened: list[GitLabTracker] = []

    def make(
        *,
        token: str = SANDBOX_TOKEN,
        project: str | None = "demo/web",
        labels: tuple[str, ...] = ("testable",),
        url: str | None = None,
        policy: RetryPolicy = FAST,
    ) -> GitLabTracker:
        settings = ConnectionSettings(
            platform="gitlab", url=url or base_url, project=project, labels=labels
        )
        tracker = open_gitlab(settings, token, policy=policy)
        opened.append(tracker)
        return tracker

    yield make
    for tracker in opened:
        tracker.close()


@pytest.fixture
def tracker(make_tracker: TrackerFactory) -> GitLabTracker:
    return make_tracker()
