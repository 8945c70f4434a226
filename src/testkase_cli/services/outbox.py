"""Delivering queued tracker writes exactly once.

Every write has a marker the tracker keeps (in the issue description or comment body).
The attempt is recorded before the request; a write with an earlier attempt is first
looked for by its marker, so a lost response, a timeout or a kill never writes twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from testkase_cli.domain.mapping import defect_status_target, priority_names
from testkase_cli.domain.models import (
    DefectPriority,
    DefectStatus,
    ExternalState,
    Kind,
    NewIssue,
    RemoteIssue,
    parse_id,
)
from testkase_cli.domain.settings import Settings
from testkase_cli.errors import (
    KaseError,
    LockedError,
    NotFoundError,
    RejectedError,
    UnreachableError,
)
from testkase_cli.ports import Tracker
from testkase_cli.services.report import SyncReport

if TYPE_CHECKING:
    from testkase_cli.store.repository import Store
    from testkase_cli.store.state import QueuedWrite
    from testkase_cli.store.syncrepo import DefectState

UNCERTAIN = "uncertain_write"
WAIT_POLL_S = 0.5


@contextmanager
def sending(store: Store, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the project's sync lock while sending queued writes outside a sync.

    Two processes sending at once would both see a write unsent and both send it (two
    tracker issues for one defect, a comment twice); with the lock one waits for the
    other, then finds the write done. `on_wait` is called once when it has to wait."""
    while True:
        try:
            owner = store.state.acquire()
            break
        except LockedError:
            if on_wait is not None:
                on_wait()
                on_wait = None
            time.sleep(WAIT_POLL_S)
    try:
        yield
    finally:
        store.state.release(owner)


def stub_issue(issue_id: str, ref: str, key: str, url: str = "") -> RemoteIssue:
    """Enough of an issue to address it (comments, transitions) without fetching it."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return RemoteIssue(
        id=issue_id,
        ref=ref,
        key=key,
        url=url,
        title="",
        description="",
        status="",
        updated=epoch,
        created=epoch,
    )


def deliver(
    store: Store,
    tracker: Tracker,
    settings: Settings,
    report: SyncReport,
    *,
    targets: set[str] | None = None,
    kinds: tuple[str, ...] = ("link_comment", "push", "comment"),
    dry_run: bool = False,
) -> None:
    """Send pending writes of `kinds` (for `targets` only, when given)."""
    for item in store.state.queued():
        if item.kind not in kinds or (targets is not None and item.target not in targets):
            continue
        if item.state == "failed" and item.kind != "push":
            continue
        if dry_run:
            report.plan.append(_describe(store, item))
            continue
        try:
            if item.kind == "link_comment":
                _link_comment(store, tracker, report, item)
            elif item.kind == "push":
                _push(store, tracker, settings, report, item)
            elif item.kind == "comment":
                _comment(store, tracker, report, item)
        except (RejectedError, NotFoundError) as error:
            store.state.fail(item.pk, error.message)
            report.fail(item.target, error.code, error.message)
        except UnreachableError as error:
            if error.code != UNCERTAIN:
                raise
            store.state.note_error(item.pk, error.message)
            report.fail(item.target, error.code, error.message + " (will be checked next sync)")


def _describe(store: Store, item: QueuedWrite) -> str:
    if item.kind == "link_comment":
        return f"comment on the issue of {item.target}: {item.payload.get('body', '')}"
    if item.kind == "push":
        defect = store.catalog.get_defect(item.target)
        return f"create a tracker issue for {item.target}: {defect.title}"
    return f"comment on the issue of {item.target}"


def _link_comment(store: Store, tracker: Tracker, report: SyncReport, item: QueuedWrite) -> None:
    number = parse_id(Kind.REQUIREMENT, item.target)
    linked = store.sync.requirement_issue_ref(number or 0)
    if linked is None or linked.state != ExternalState.LINKED.value:
        raise RejectedError(f"{item.target} is no longer linked to a tracker issue")
    issue = stub_issue(linked.ext_id, linked.ext_ref, linked.key)
    if item.attempts and any(c.marker == item.marker for c in tracker.list_comments(issue)):
        _sent(store, item)
        return
    store.state.mark_attempt(item.pk)
    tracker.add_comment(issue, str(item.payload["body"]), marker=item.marker)
    _sent(store, item)
    report.comments["pushed"] += 1


def _sent(store: Store, item: QueuedWrite) -> None:
    store.state.sent(item.pk)


def _comment(store: Store, tracker: Tracker, report: SyncReport, item: QueuedWrite) -> None:
    number = parse_id(Kind.DEFECT, item.target) or 0
    defect = store.sync.defect_state(number)
    comment = store.sync.comment(int(item.payload["comment_pk"]))
    if defect is None or comment is None:
        _sent(store, item)
        return
    if not defect.ext_id or not defect.ext_ref:
        return
    issue = stub_issue(defect.ext_id, defect.ext_ref, defect.ext_key or "")
    if item.attempts:
        for remote in tracker.list_comments(issue):
            if remote.marker == item.marker:
                store.sync.record_comment_sent(comment.pk, remote.id, item.pk)
                return
    store.state.mark_attempt(item.pk)
    posted = tracker.add_comment(issue, comment.body, marker=item.marker)
    store.sync.record_comment_sent(comment.pk, posted.id, item.pk)
    report.comments["pushed"] += 1


def _push(
    store: Store, tracker: Tracker, settings: Settings, report: SyncReport, item: QueuedWrite
) -> None:
    number = parse_id(Kind.DEFECT, item.target) or 0
    defect = store.sync.defect_state(number)
    if defect is None:
        _sent(store, item)
        return
    if defect.ext_id:
        _sent(store, item)
        return
    if item.attempts:
        found = tracker.find_by_marker(item.marker)
        if found is not None:
            _record(store, tracker, settings, defect, found, item)
            report.defects["pushed"] += 1
            return
    new = NewIssue(
        title=defect.title,
        description=_description(store, settings, number),
        priority=DefectPriority(defect.priority),
        status=DefectStatus(defect.status),
        marker=item.marker,
    )
    store.state.mark_attempt(item.pk)
    try:
        created = tracker.create_issue(new)
    except KaseError as error:
        if error.code != UNCERTAIN:
            store.sync.set_sync_error(number, error.message)
        raise
    _record(store, tracker, settings, defect, created, item)
    report.defects["pushed"] += 1


def _record(
    store: Store,
    tracker: Tracker,
    settings: Settings,
    defect: DefectState,
    issue: RemoteIssue,
    item: QueuedWrite,
) -> None:
    pushed_as = priority_names(tracker.priority_mapping())
    store.sync.record_push(
        defect.number,
        issue,
        item.pk,
        platform=tracker.platform,
        title=issue.title,
        priority=issue.priority or pushed_as[DefectPriority(defect.priority)],
        status=issue.status
        or defect_status_target(tracker.platform, DefectStatus.OPEN, settings.defect_status),
    )


def _description(store: Store, settings: Settings, number: int) -> str:
    defect = store.catalog.get_defect(f"DEF-{number}")
    lines = [defect.description.strip()] if defect.description.strip() else []
    context = [f"Reported from TestKase defect {defect.id} (project {settings.project}).", ""]
    if defect.case is not None:
        case = store.catalog.get_case(f"TC-{defect.case}")
        context.append(f"- Test case: {case.id} {case.title} (priority {case.priority.value})")
    if defect.cycle is not None:
        cycle, executions = store.catalog.get_cycle(f"CY-{defect.cycle}")
        context.append(f"- Cycle: {cycle.id} {cycle.name}")
        for execution in executions:
            if execution.number == defect.execution:
                stamp = execution.executed_at.strftime("%Y-%m-%d %H:%M UTC")
                context.append(f"- Execution: {execution.id}, {execution.result.value}, {stamp}")
                if execution.notes:
                    context.append(f"- Notes: {execution.notes}")
    if defect.requirements:
        refs = []
        for req_number in defect.requirements:
            req = store.catalog.get_requirement(f"REQ-{req_number}")
            refs.append(f"{req.id} ({req.external.key})" if req.external else req.id)
        context.append("- Requirements: " + ", ".join(refs))
    lines += ["", "---", *context] if lines else ["---", *context]
    return "\n".join(lines)
