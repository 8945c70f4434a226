"""Jira Cloud and Server/Data Center behind `ports.Tracker`."""

from __future__ import annotations

from testkase_cli.trackers.jira.client import JiraTracker, detect_deployment, open_jira

__all__ = ["JiraTracker", "detect_deployment", "open_jira"]
