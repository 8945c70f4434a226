"""`testkase push`: create tracker issues for defects, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from testkase_cli.domain.models import Defect, Kind, parse_id
from testkase_cli.domain.settings import Settings
from testkase_cli.errors import NotFoundError
from testkase_cli.ports import Tracker
from testkase_cli.services import outbox
from testkase_cli.services.link import new_marker
from testkase_cli.services.report import SyncReport

if TYPE_CHECKING:
    from testkase_cli.store.repository import Store


def push(
    settings: Settings,
    store: Store,
    tracker: Tracker,
    refs: list[str],
    *,
    on_wait: Callable[[], None] | None = None,
) -> tuple[list[Defect], SyncReport]:
    """Push each defect (already pushed ones are reported as they are), holding the
    project's sync lock (waiting for a running sync or push; `on_wait` says so)."""
    numbers = []
    for ref in refs:
        number = parse_id(Kind.DEFECT, ref)
        if number is None:
            raise NotFoundError(f"{ref} is not a defect id", hint="defect ids look like DEF-3")
        numbers.append(store.catalog.get_defect(ref).number)
    report = SyncReport(project=settings.project, platform=tracker.platform, mode="push")
    targets = set()
    with outbox.sending(store, on_wait=on_wait):
        for number in numbers:
            store.sync.prepare_push(number, new_marker())
            targets.add(f"DEF-{number}")
        outbox.deliver(store, tracker, settings, report, targets=targets, kinds=("push",))
        outbox.deliver(store, tracker, settings, report, targets=targets, kinds=("comment",))
    report.requests = tracker.requests
    return [store.catalog.get_defect(f"DEF-{n}") for n in numbers], report


def all_unpushed(store: Store) -> list[str]:
    return [d.id for d in store.catalog.list_defects() if d.external is None]
