"""Fixed priority tables (SPEC section 6) and the config-driven status rules."""

from __future__ import annotations

from collections.abc import Mapping

from testkase_cli.domain.models import (
    DefectPriority,
    DefectStatus,
    Priority,
    RemoteIssue,
    RequirementStatus,
)

JIRA_REQUIREMENT_PRIORITY: dict[str, Priority] = {
    "highest": Priority.P0,
    "blocker": Priority.P0,
    "high": Priority.P1,
    "critical": Priority.P1,
    "medium": Priority.P2,
    "major": Priority.P2,
    "low": Priority.P3,
    "lowest": Priority.P3,
    "minor": Priority.P3,
    "trivial": Priority.P3,
}

GITLAB_REQUIREMENT_PRIORITY: dict[str, Priority] = {
    "critical": Priority.P0,
    "high": Priority.P1,
    "medium": Priority.P2,
    "low": Priority.P3,
}

JIRA_DEFECT_PRIORITY: dict[DefectPriority, str] = {
    DefectPriority.BLOCKER: "Highest",
    DefectPriority.CRITICAL: "High",
    DefectPriority.MAJOR: "Medium",
    DefectPriority.MINOR: "Low",
    DefectPriority.TRIVIAL: "Lowest",
}

GITLAB_DEFECT_PRIORITY: dict[DefectPriority, str] = {
    DefectPriority.BLOCKER: "critical",
    DefectPriority.CRITICAL: "high",
    DefectPriority.MAJOR: "medium",
    DefectPriority.MINOR: "low",
    DefectPriority.TRIVIAL: "low",
}

REMOTE_NAME_TO_DEFECT_PRIORITY: dict[str, DefectPriority] = {
    "highest": DefectPriority.BLOCKER,
    "blocker": DefectPriority.BLOCKER,
    "critical": DefectPriority.BLOCKER,
    "high": DefectPriority.CRITICAL,
    "medium": DefectPriority.MAJOR,
    "major": DefectPriority.MAJOR,
    "low": DefectPriority.MINOR,
    "minor": DefectPriority.MINOR,
    "lowest": DefectPriority.TRIVIAL,
    "trivial": DefectPriority.TRIVIAL,
}

DEFECT_STATUS_ORDER = (
    DefectStatus.OPEN,
    DefectStatus.IN_PROGRESS,
    DefectStatus.CLOSED,
    DefectStatus.ACHIEVED,
)


def requirement_priority(platform: str, remote: str | None) -> Priority:
    if not remote:
        return Priority.P2
    table = JIRA_REQUIREMENT_PRIORITY if platform == "jira" else GITLAB_REQUIREMENT_PRIORITY
    return table.get(remote.strip().casefold(), Priority.P2)


def requirement_status(
    platform: str, issue: RemoteIssue, mapping: Mapping[str, RequirementStatus]
) -> RequirementStatus:
    if platform == "gitlab":
        return (
            RequirementStatus.ACTIVE if issue.status == "opened" else RequirementStatus.DEPRECATED
        )
    folded = {name.casefold(): status for name, status in mapping.items()}
    mapped = folded.get(issue.status.casefold())
    if mapped is not None:
        return mapped
    return RequirementStatus.DRAFT if issue.status_category == "new" else RequirementStatus.ACTIVE


def defect_status_target(
    platform: str, status: DefectStatus, mapping: Mapping[DefectStatus, str]
) -> str:
    """The tracker status a local defect status is pushed as."""
    if platform == "gitlab":
        closed = status in (DefectStatus.CLOSED, DefectStatus.ACHIEVED)
        return "closed" if closed else "opened"
    return mapping[status]


def defect_status_from_remote(
    platform: str,
    issue: RemoteIssue,
    current: DefectStatus,
    mapping: Mapping[DefectStatus, str],
) -> DefectStatus:
    """The local status for a tracker status; keeps `current` when it maps to the same."""
    if defect_status_target(platform, current, mapping).casefold() == issue.status.casefold():
        return current
    if platform == "gitlab":
        return DefectStatus.CLOSED if issue.status == "closed" else DefectStatus.OPEN
    for status in DEFECT_STATUS_ORDER:
        if mapping[status].casefold() == issue.status.casefold():
            return status
    return {
        "new": DefectStatus.OPEN,
        "done": DefectStatus.CLOSED,
    }.get(issue.status_category or "", DefectStatus.IN_PROGRESS)


def defect_priority_from_remote(
    remote: str | None, current: DefectPriority, pushed_as: Mapping[DefectPriority, str]
) -> DefectPriority:
    if remote is None:
        return current
    if pushed_as.get(current, "").casefold() == remote.casefold():
        return current
    for priority, name in pushed_as.items():
        if name.casefold() == remote.casefold():
            return priority
    return REMOTE_NAME_TO_DEFECT_PRIORITY.get(remote.casefold(), current)


def priority_names(pushed_as: Mapping[DefectPriority, str]) -> dict[DefectPriority, str]:
    """Tracker priority names as RemoteIssue.priority carries them (GitLab: label value)."""
    return {priority: name.rsplit("::", 1)[-1] for priority, name in pushed_as.items()}
