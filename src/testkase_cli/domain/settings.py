"""Validated settings, as the services see them (config.py builds them from TOML)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from testkase_cli.domain.models import ConnectionSettings, DefectStatus, RequirementStatus

DEFAULT_REQUIREMENT_STATUS: dict[str, RequirementStatus] = {
    "To Do": RequirementStatus.DRAFT,
    "In Progress": RequirementStatus.ACTIVE,
    "Done": RequirementStatus.ACTIVE,
    "Won't Do": RequirementStatus.DEPRECATED,
}

DEFAULT_DEFECT_STATUS: dict[DefectStatus, str] = {
    DefectStatus.OPEN: "To Do",
    DefectStatus.IN_PROGRESS: "In Progress",
    DefectStatus.CLOSED: "Done",
    DefectStatus.ACHIEVED: "Done",
}

CONFLICT_POLICIES = ("newest", "tracker", "local")
DEFAULT_PROJECT = "default"


@dataclass(frozen=True)
class Settings:
    project: str = DEFAULT_PROJECT
    path: Path | None = None
    database: str | None = None
    connection: ConnectionSettings | None = None
    conflict: str = "newest"
    interval: int = 60
    requirement_status: dict[str, RequirementStatus] = field(
        default_factory=lambda: dict(DEFAULT_REQUIREMENT_STATUS)
    )
    defect_status: dict[DefectStatus, str] = field(
        default_factory=lambda: dict(DEFAULT_DEFECT_STATUS)
    )
