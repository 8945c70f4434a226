"""`testkase sync`: pull requirements, send queued writes, sync pushed defects both ways.

Guarantees (docs/sync.md): cursors advance only after what they cover was applied; every
upsert is keyed by the tracker's immutable id; every tracker write goes through the
outbox with a marker; one sync per project at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from testkase_cli.domain import mapping
from testkase_cli.domain.models import (
    DefectPriority,
    DefectStatus,
    ExternalState,
    Kind,
    RemoteIssue,
    parse_id,
)
from testkase_cli.domain.settings import Settings
from testkase_cli.errors import NotFoundError, RejectedError, UnreachableError
from testkase_cli.ports import Tracker
from testkase_cli.services import outbox
from testkase_cli.services.report import SyncReport

if TYPE_CHECKING:
    from testkase_cli.store.repository import Store
    from testkase_cli.store.syncrepo import DefectState, RequirementUpsert, UpsertCounts

OVERLAP = timedelta(minutes=2)
RECONCILE_EVERY = timedelta(hours=1)
BATCH = 500
HEARTBEAT_EVERY_S = 10.0
Progress = Callable[[str, int], None]


def connection_key(settings: Settings) -> str:
    conn = settings.connection
    if conn is None:
        return ""
    return "|".join(
        [conn.platform, conn.url, conn.project or "", conn.jql or "", ",".join(conn.labels)]
    )


def run(
    settings: Settings,
    store: Store,
    tracker: Tracker,
    *,
    full: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> SyncReport:
    started = time.monotonic()
    cursors = store.state.cursors()
    key = connection_key(settings)
    full = full or cursors.connection_key != key or cursors.requirements is None
    mode = "dry-run" if dry_run else ("full" if full else "incremental")
    report = SyncReport(project=settings.project, platform=tracker.platform, mode=mode)
    owner = None if dry_run else store.state.acquire()
    try:
        sync = _Sync(settings, store, tracker, report, owner, progress or (lambda _s, _n: None))
        sync.requirements(full=full, since=None if full else cursors.requirements)
        if not dry_run and (full or _due(cursors.last_reconcile_at)):
            sync.reconcile(full=full)
        outbox.deliver(
            store, tracker, settings, report, kinds=("link_comment", "push"), dry_run=dry_run
        )
        sync.defects(since=cursors.defects, dry_run=dry_run)
        queue = store.state.queue_counts()
        report.queue["pending"], report.queue["failed"] = queue["pending"], queue["failed"]
        report.requests = tracker.requests
        report.duration_s = time.monotonic() - started
        if not dry_run:
            values: dict[str, object] = {
                "connection_key": key,
                "last_sync_at": datetime.now(UTC),
                "last_summary": report.as_json(),
            }
            if sync.requirements_cursor is not None:
                values["requirements_cursor"] = sync.requirements_cursor
            if sync.defects_cursor is not None:
                values["defects_cursor"] = sync.defects_cursor
            if full:
                values["last_full_at"] = datetime.now(UTC)
            if sync.reconciled:
                values["last_reconcile_at"] = datetime.now(UTC)
            store.state.save_cursors(**values)
    finally:
        if owner is not None:
            store.state.release(owner)
    return report


def _due(last: datetime | None) -> bool:
    return last is None or datetime.now(UTC) - last > RECONCILE_EVERY


class _Sync:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        tracker: Tracker,
        report: SyncReport,
        owner: str | None,
        progress: Progress,
    ) -> None:
        self.settings = settings
        self.store = store
        self.tracker = tracker
        self.report = report
        self.owner = owner
        self.progress = progress
        self.platform = tracker.platform
        self.dry_run = owner is None
        self.requirements_cursor: datetime | None = None
        self.defects_cursor: datetime | None = None
        self.reconciled = False
        self.seen: set[str] | None = None
        self.beat_at = time.monotonic()  # acquire() just stamped the lock

    # -- requirements -----------------------------------------------------------------

    def requirements(self, *, full: bool, since: datetime | None) -> None:
        from testkase_cli.store.syncrepo import UpsertCounts

        counts = UpsertCounts()
        newest = since
        self.seen = set() if full else None
        # Keyed by id: an issue changed during the listing may come again, newer; the
        # later version replaces the earlier one (a later batch updates it).
        batch: dict[str, RequirementUpsert] = {}
        window = None if since is None else since - OVERLAP
        for issue in self.tracker.iter_requirements(updated_since=window):
            if self.seen is not None:
                self.seen.add(issue.id)
            if issue.moved_to_id:
                self._moved(issue)
                continue
            batch[issue.id] = self._upsert(issue)
            newest = issue.updated if newest is None else max(newest, issue.updated)
            if len(batch) >= BATCH:
                counts.add(self._flush(list(batch.values())))
                batch = {}
        counts.add(self._flush(list(batch.values())))
        for name in ("created", "updated", "restored", "unchanged"):
            self.report.requirements[name] += getattr(counts, name)
        self.requirements_cursor = newest

    def _upsert(self, issue: RemoteIssue) -> RequirementUpsert:
        from testkase_cli.store.syncrepo import RequirementUpsert

        return RequirementUpsert(
            issue=issue,
            platform=self.platform,
            priority=mapping.requirement_priority(self.platform, issue.priority).value,
            status=mapping.requirement_status(
                self.platform, issue, self.settings.requirement_status
            ).value,
        )

    def _flush(self, batch: list[RequirementUpsert]) -> UpsertCounts:
        from testkase_cli.store.syncrepo import UpsertCounts

        if not batch:
            return UpsertCounts()
        counts = self.store.sync.upsert_requirements(batch, commit=not self.dry_run)
        self.progress("requirements", len(batch))
        # A heartbeat is a commit of its own: one every HEARTBEAT_EVERY_S is plenty for a
        # lock that turns stale after two minutes (store/state.py LOCK_STALE_AFTER).
        if self.owner is not None and time.monotonic() - self.beat_at >= HEARTBEAT_EVERY_S:
            self.store.state.heartbeat(self.owner)
            self.beat_at = time.monotonic()
        return counts

    def _moved(self, issue: RemoteIssue) -> None:
        """GitLab: the old issue is closed with moved_to_id; follow it to the new one."""
        target = self.tracker.follow_move(issue)
        if target is None or self.dry_run:
            return
        if self.store.sync.repoint(issue.id, target):
            counts = self.store.sync.upsert_requirements([self._upsert(target)])
            self.report.requirements["updated"] += counts.updated + counts.unchanged
            if self.seen is not None:
                self.seen.add(target.id)

    def reconcile(self, *, full: bool) -> None:
        """Find issues deleted in the tracker, or gone from the filter."""
        ids = self.seen if full and self.seen is not None else None
        if ids is None:
            ids = set(self.tracker.iter_requirement_ids())
        gone: dict[ExternalState, list[int]] = {
            ExternalState.DELETED: [],
            ExternalState.LEFT_FILTER: [],
        }
        for linked in self.store.sync.linked_requirements(excluding=ids):
            if linked.state != ExternalState.LINKED.value:
                continue
            current = self.tracker.get_issue(linked.ext_ref)
            if current is None:
                gone[ExternalState.DELETED].append(linked.number)
            elif current.moved_to_id:
                self._moved(current)
            else:
                self.store.sync.refresh_reference(current)
                gone[ExternalState.LEFT_FILTER].append(linked.number)
        for state, numbers in gone.items():
            self.report.requirements["deprecated"] += self.store.sync.mark_gone(numbers, state)
        self.reconciled = True

    # -- defects ----------------------------------------------------------------------

    def defects(self, *, since: datetime | None, dry_run: bool) -> None:
        pushed = {d.ext_id: d for d in self.store.sync.pushed_defects() if d.ext_id}
        queued = self.store.state.queued(include_failed=False)
        updates: dict[int, list[int]] = {}
        waiting: set[int] = set()
        attempted: dict[int, set[str]] = {}
        for item in queued:
            if item.kind not in ("defect_update", "comment"):
                continue
            number = parse_id(Kind.DEFECT, item.target) or 0
            waiting.add(number)
            if item.kind != "defect_update":
                continue
            updates.setdefault(number, []).append(item.pk)
            if item.attempts:
                fields = item.payload.get("fields") or []
                attempted.setdefault(number, set()).update(str(f) for f in fields)
        if not pushed:
            return
        remote: dict[str, RemoteIssue] = {}
        newest = since
        window = None if since is None else since - OVERLAP
        for found in self.tracker.iter_defects(updated_since=window):
            newest = found.updated if newest is None else max(newest, found.updated)
            if found.id in pushed:
                remote[found.id] = found
        pushed_as: dict[DefectPriority, str] = {}
        for ext_id, defect in sorted(pushed.items(), key=lambda kv: kv[1].number):
            listed = remote.get(ext_id)
            quiet = listed is None or (
                listed.updated == defect.remote_updated
                and listed.comment_count == defect.remote_comment_count
            )
            if quiet and not _edited(defect) and defect.number not in waiting:
                continue
            if not pushed_as:
                pushed_as = mapping.priority_names(self.tracker.priority_mapping())
            try:
                issue: RemoteIssue | None = listed or self.tracker.get_issue(defect.ext_ref or "")
                if issue is None:
                    raise NotFoundError(
                        f"the tracker issue {defect.ext_key} of {defect.id} is gone"
                    )
                self._defect(
                    defect,
                    issue,
                    pushed_as,
                    updates.get(defect.number, []),
                    attempted.get(defect.number, set()),
                )
            except (RejectedError, NotFoundError) as error:
                self.report.fail(defect.id, error.code, error.message)
                if not dry_run:
                    self.store.sync.set_sync_error(defect.number, error.message)
            except UnreachableError as error:
                if error.code != outbox.UNCERTAIN:
                    raise
                # The change stays queued; the next sync compares again and finishes it.
                self.report.fail(defect.id, error.code, error.message)
        if not dry_run:
            outbox.deliver(self.store, self.tracker, self.settings, self.report, kinds=("comment",))
        self.defects_cursor = newest

    def _local_view(
        self, defect: DefectState, pushed_as: dict[DefectPriority, str]
    ) -> dict[str, str]:
        return {
            "priority": pushed_as[DefectPriority(defect.priority)],
            "status": mapping.defect_status_target(
                self.platform, DefectStatus(defect.status), self.settings.defect_status
            ),
        }

    def _defect(
        self,
        defect: DefectState,
        issue: RemoteIssue,
        pushed_as: dict[DefectPriority, str],
        finish: list[int],
        attempted: set[str],
    ) -> None:
        """`attempted`: fields an earlier sync started to push and did not finish (a lost
        answer, a workflow walk cut short); the tracker may hold our own partial write
        there, so the local value is still the one to deliver, not a conflict."""
        local_view = self._local_view(defect, pushed_as)
        remote_view = {"priority": issue.priority or "", "status": issue.status}
        base = {"priority": defect.base_priority, "status": defect.base_status}
        new_local: dict[str, str] = {}
        new_base: dict[str, str] = {}
        pulled = False
        marked = False
        for field in ("priority", "status"):
            remote_changed = _norm(remote_view[field]) != _norm(base[field])
            local_changed = _norm(local_view[field]) != _norm(base[field])
            if not remote_changed and not local_changed:
                continue
            take_remote = remote_changed and not local_changed
            if remote_changed and local_changed:
                if _norm(local_view[field]) == _norm(remote_view[field]):
                    new_base[field] = remote_view[field]
                    continue
                take_remote = field not in attempted and self._remote_wins(defect, issue)
                if field not in attempted:
                    self.report.defects["conflicts"] += 1
                    self.report.conflicts.append(
                        {
                            "item": defect.id,
                            "field": field,
                            "local": local_view[field],
                            "tracker": remote_view[field],
                            "kept": "tracker" if take_remote else "local",
                        }
                    )
            if take_remote:
                new_local[field] = self._from_remote(field, defect, issue, pushed_as)
                new_base[field] = remote_view[field]
                pulled = True
            else:
                if not self.dry_run and not marked:
                    for pk in finish:
                        self.store.state.mark_attempt(pk)
                    marked = True
                self._push_field(field, defect, issue)
                new_base[field] = local_view[field]
        if pulled:
            self.report.defects["pulled"] += 1
        comment_count = issue.comment_count
        if self.dry_run:
            return
        if (
            comment_count is None
            or comment_count != defect.remote_comment_count
            or (defect.remote_updated is None or issue.updated > defect.remote_updated)
        ):
            remote_comments = self.tracker.list_comments(issue)
            self.report.comments["pulled"] += self.store.sync.import_comments(
                defect.number, remote_comments
            )
            comment_count = len(remote_comments) if comment_count is None else comment_count
        self.store.sync.save_defect_sync(
            defect.number,
            local=new_local,
            base=new_base,
            remote_updated=issue.updated,
            comment_count=comment_count,
            finish=finish,
        )

    def _remote_wins(self, defect: DefectState, issue: RemoteIssue) -> bool:
        policy = self.settings.conflict
        if policy == "tracker":
            return True
        if policy == "local":
            return False
        local_at = defect.local_changed_at or defect.synced_at
        return local_at is None or issue.updated >= local_at

    def _from_remote(
        self,
        field: str,
        defect: DefectState,
        issue: RemoteIssue,
        pushed_as: dict[DefectPriority, str],
    ) -> str:
        if field == "priority":
            return mapping.defect_priority_from_remote(
                issue.priority, DefectPriority(defect.priority), pushed_as
            ).value
        return mapping.defect_status_from_remote(
            self.platform, issue, DefectStatus(defect.status), self.settings.defect_status
        ).value

    def _push_field(self, field: str, defect: DefectState, issue: RemoteIssue) -> None:
        if field == "priority":
            if self.dry_run:
                self.report.plan.append(f"set priority of {issue.key} to {defect.priority}")
                return
            self.tracker.set_priority(issue, DefectPriority(defect.priority))
            return
        target = mapping.defect_status_target(
            self.platform, DefectStatus(defect.status), self.settings.defect_status
        )
        if self.dry_run:
            self.report.plan.append(f"move {issue.key} to status {target}")
            return
        self.tracker.set_status(issue, target)


def _edited(defect: DefectState) -> bool:
    """Changed here since it was last synced (status, priority, or anything else)."""
    changed, synced = defect.local_changed_at, defect.synced_at
    return changed is not None and (synced is None or changed > synced)


def _norm(value: str | None) -> str:
    return (value or "").strip().casefold()
