"""Tracker adapters behind `ports.Tracker`; `open_tracker` picks one by platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from testkase_cli.domain.models import ConnectionSettings
    from testkase_cli.ports import Tracker


def open_tracker(settings: ConnectionSettings, token: str) -> Tracker:
    if settings.platform == "gitlab":
        from testkase_cli.trackers.gitlab import open_gitlab

        return open_gitlab(settings, token)
    from testkase_cli.trackers.jira import open_jira

    return open_jira(settings, token)


def detect_jira_deployment(url: str) -> str:
    from testkase_cli.trackers.jira import detect_deployment

    return detect_deployment(url)
