"""What a sync (or a push) did, in the shape of SPEC section 7."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ItemError:
    item: str
    code: str
    message: str


@dataclass
class SyncReport:
    project: str
    platform: str
    mode: str
    requirements: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("created", "updated", "deprecated", "restored", "unchanged"), 0
        )
    )
    defects: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("pulled", "pushed", "conflicts"), 0)
    )
    comments: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("pulled", "pushed"), 0))
    queue: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("sent", "pending", "failed"), 0)
    )
    errors: list[ItemError] = field(default_factory=list)
    conflicts: list[dict[str, str]] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    requests: int = 0
    duration_s: float = 0.0

    def fail(self, item: str, code: str, message: str) -> None:
        self.errors.append(ItemError(item, code, message))

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "project": self.project,
            "platform": self.platform,
            "mode": self.mode,
            "requirements": self.requirements,
            "defects": self.defects,
            "comments": self.comments,
            "queue": self.queue,
            "errors": [e.__dict__ for e in self.errors],
            "conflicts": self.conflicts,
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
        }
        if self.mode == "dry-run":
            data["plan"] = self.plan
        return data
