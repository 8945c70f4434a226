"""The GitLab emulator spoken to as a raw HTTP client would (stdlib, no adapter)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gitlab_raw import Raw

from testkase_cli.sandbox.gitlab import GitLabApp, create_app


@pytest.fixture
def app() -> GitLabApp:
    return create_app(seed=1)


@pytest.fixture
def gitlab(serve: Callable[[GitLabApp], str], app: GitLabApp) -> Raw:
    return Raw(serve(app))
