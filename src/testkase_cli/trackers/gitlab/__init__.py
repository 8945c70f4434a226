"""GitLab Issues adapter (REST v4): `open_gitlab` builds a `ports.Tracker`."""

from __future__ import annotations

from urllib.parse import urlsplit

from testkase_cli.domain.models import ConnectionSettings
from testkase_cli.errors import UsageError
from testkase_cli.trackers.gitlab.client import GitLabTracker
from testkase_cli.trackers.gitlab.errors import make_translate
from testkase_cli.trackers.http import Funnel, RetryPolicy

__all__ = ["GitLabTracker", "instance_root", "open_gitlab"]

API_PATH = "/api/v4"


def instance_root(url: str) -> str:
    """`https://gitlab.example.com/` (or `.../api/v4`) -> `https://gitlab.example.com`."""
    root = url.strip().rstrip("/")
    root = root.removesuffix(API_PATH).rstrip("/")
    parts = urlsplit(root)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"not a GitLab URL: {url!r}",
            hint="give the instance root, e.g. https://gitlab.com or https://gitlab.example.com",
        )
    return root


def open_gitlab(
    settings: ConnectionSettings, token: str, *, policy: RetryPolicy | None = None
) -> GitLabTracker:
    """A tracker for `settings.url` (instance root) and `settings.project` (id or path)."""
    root = instance_root(settings.url)
    funnel = Funnel(
        f"{root}{API_PATH}",
        headers={"PRIVATE-TOKEN": token},
        secret=token,
        translate=make_translate(root),
        policy=policy,
    )
    return GitLabTracker(
        funnel, instance_url=root, project=settings.project, labels=settings.labels
    )
