"""Linking test cases to requirements; a synced requirement gets a tracker comment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from testkase_cli.domain.models import Case, ExternalState, Outgoing, Requirement
from testkase_cli.domain.settings import Settings

if TYPE_CHECKING:
    from testkase_cli.store.catalog import Catalog


def new_marker() -> str:
    return f"tk-{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True)
class LinkReport:
    case: str
    requirement: str
    changed: bool
    queued: bool


def link_comment(case: Case, *, linked: bool) -> str:
    verb = "now covers" if linked else "no longer covers"
    return (
        f'TestKase: test case {case.id} "{case.title}" (priority {case.priority.value}, '
        f"status {case.status.value}) {verb} this issue."
    )


def _outgoing(settings: Settings, case: Case, req: Requirement, *, linked: bool) -> list[Outgoing]:
    ext = req.external
    if settings.connection is None or ext is None or ext.state is not ExternalState.LINKED:
        return []
    return [
        Outgoing(
            kind="link_comment",
            target=req.id,
            payload={"issue_id": ext.id, "body": link_comment(case, linked=linked)},
            marker=new_marker(),
        )
    ]


def link(catalog: Catalog, settings: Settings, case_ref: str, req_ref: str) -> LinkReport:
    case = catalog.get_case(case_ref)
    req = catalog.get_requirement(req_ref)
    outgoing = _outgoing(settings, case, req, linked=True)
    changed = catalog.link(case.id, req.id, outgoing)
    return LinkReport(case.id, req.id, changed, bool(outgoing) and changed)


def unlink(catalog: Catalog, settings: Settings, case_ref: str, req_ref: str) -> LinkReport:
    case = catalog.get_case(case_ref)
    req = catalog.get_requirement(req_ref)
    outgoing = _outgoing(settings, case, req, linked=False)
    changed = catalog.unlink(case.id, req.id, outgoing)
    return LinkReport(case.id, req.id, changed, bool(outgoing) and changed)
