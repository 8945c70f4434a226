"""The GitLab emulator spoken to as a raw HTTP client would (stdlib, no adapter)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from gitlab_openapi import OpenApi
from gitlab_raw import Raw

from testkase_cli.sandbox.gitlab import GitLabApp, create_app

SHARED = Path(__file__).resolve().parents[3].parent / "shared"


@pytest.fixture
def app() -> GitLabApp:
    return create_app(seed=1)


@pytest.fixture
def gitlab(serve: Callable[[GitLabApp], str], app: GitLabApp) -> Raw:
    return Raw(serve(app))


@pytest.fixture(scope="session")
def openapi() -> OpenApi:
    path = SHARED / "openapi" / "gitlab-v4-openapi_v2-as-oas3.yaml"
    if not path.is_file():
        pytest.skip(f"GitLab OpenAPI document not found at {path}")
    return OpenApi(path)
