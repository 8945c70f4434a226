"""Local defect changes; once a defect is pushed they are queued for the tracker."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from testkase_cli.domain.models import Defect, ExternalState, Outgoing
from testkase_cli.domain.settings import Settings
from testkase_cli.services.link import new_marker

if TYPE_CHECKING:
    from testkase_cli.store.catalog import Catalog

TRACKED_FIELDS = ("priority", "status")


def _pushed(settings: Settings, defect: Defect) -> bool:
    ext = defect.external
    return settings.connection is not None and ext is not None and ext.state is ExternalState.LINKED


def edit(catalog: Catalog, settings: Settings, ref: str, changes: dict[str, str]) -> Defect:
    current = catalog.get_defect(ref)
    outgoing = []
    if _pushed(settings, current) and tracked_fields_changed(current, changes):
        outgoing.append(
            Outgoing(
                kind="defect_update",
                target=current.id,
                payload={"fields": sorted(set(changes) & set(TRACKED_FIELDS))},
                marker=new_marker(),
            )
        )
    return catalog.edit_defect(ref, changes, outgoing)


def tracked_fields_changed(current: Defect, changes: dict[str, str]) -> bool:
    values = {"priority": current.priority.value, "status": current.status.value}
    return any(key in values and values[key] != value for key, value in changes.items())


def comment(catalog: Catalog, settings: Settings, ref: str, body: str) -> Defect:
    current = catalog.get_defect(ref)
    marker = new_marker() if _pushed(settings, current) else None
    return catalog.add_comment(ref, body, _author(), marker)


def _author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
