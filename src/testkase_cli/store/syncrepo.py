"""What the sync engine reads and writes: requirement upserts, defect sync fields, comments.

Each public method is one transaction. Upserts are keyed by the tracker's immutable id.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from testkase_cli.domain.models import (
    ExternalState,
    Kind,
    RemoteComment,
    RemoteIssue,
    RequirementStatus,
    Source,
    format_id,
)
from testkase_cli.store import counters
from testkase_cli.store.convert import maybe_utc, stored, utc
from testkase_cli.store.tables import (
    CommentRow,
    DefectRow,
    OutboxRow,
    RequirementRow,
)


@dataclass(frozen=True)
class RequirementUpsert:
    issue: RemoteIssue
    platform: str
    priority: str
    status: str


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    restored: int = 0
    unchanged: int = 0
    deprecated: int = 0

    def add(self, other: UpsertCounts) -> None:
        for name in ("created", "updated", "restored", "unchanged", "deprecated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class LinkedRequirement:
    number: int
    ext_id: str
    ext_ref: str
    key: str
    state: str


@dataclass(frozen=True)
class DefectState:
    """A pushed defect as the sync engine needs it."""

    number: int
    title: str
    description: str
    priority: str
    status: str
    marker: str | None
    ext_id: str | None
    ext_ref: str | None
    ext_key: str | None
    ext_url: str | None
    base_title: str | None
    base_priority: str | None
    base_status: str | None
    remote_updated: datetime | None
    remote_comment_count: int | None
    local_changed_at: datetime | None
    synced_at: datetime | None
    sync_state: str

    @property
    def id(self) -> str:
        return format_id(Kind.DEFECT, self.number)


@dataclass(frozen=True)
class LocalComment:
    pk: int
    body: str
    author: str
    marker: str | None
    remote_id: str | None


def _now() -> datetime:
    return datetime.now(UTC)


TRACKED = (
    "title",
    "description",
    "priority",
    "status",
    "ext_key",
    "ext_ref",
    "ext_url",
    "source",
    "ext_platform",
    "remote_updated",
)


CONTENT = tuple(name for name in TRACKED if name != "remote_updated")
"""What a user sees change; a bare `updated` bump (a comment, our own) is not a change."""


def _tracked(item: RequirementUpsert) -> dict[str, Any]:
    """The columns a tracker issue owns, plus its id under `_id`."""
    issue = item.issue
    return {
        "_id": issue.id,
        "title": issue.title,
        "description": issue.description,
        "priority": item.priority,
        "status": item.status,
        "ext_key": issue.key,
        "ext_ref": issue.ref,
        "ext_url": issue.url,
        "source": item.platform,
        "ext_platform": item.platform,
        "remote_updated": utc(issue.updated),
    }


class SyncRepo:
    def __init__(self, engine: Engine, project: str) -> None:
        self.engine = engine
        self.project = project

    # -- requirements -----------------------------------------------------------------

    def upsert_requirements(
        self, batch: Sequence[RequirementUpsert], *, commit: bool = True
    ) -> UpsertCounts:
        """Insert new issues, update changed ones: one statement each, one transaction."""
        counts = UpsertCounts()
        if not batch:
            return counts
        now = _now()
        table = RequirementRow.__table__  # type: ignore[attr-defined]
        columns = [table.c[name] for name in ("pk", "ext_id", "ext_state", *TRACKED)]
        with Session(self.engine) as session:
            existing = {
                row.ext_id: row
                for row in session.execute(
                    sa_select(*columns).where(
                        table.c.project == self.project,
                        table.c.ext_id.in_([u.issue.id for u in batch]),
                    )
                )
            }
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            stamps: list[dict[str, Any]] = []
            for item in batch:
                wanted = _tracked(item)
                row = existing.get(item.issue.id)
                if row is None:
                    inserts.append(wanted)
                    continue
                changed = any(getattr(row, key) != wanted[key] for key in CONTENT)
                if row.ext_state != ExternalState.LINKED.value:
                    counts.restored += 1
                elif changed:
                    counts.updated += 1
                else:
                    counts.unchanged += 1
                    if row.remote_updated != wanted["remote_updated"]:
                        stamps.append({"pk": row.pk, "remote_updated": wanted["remote_updated"]})
                    continue
                updates.append(
                    {
                        **wanted,
                        "pk": row.pk,
                        "ext_state": ExternalState.LINKED.value,
                        "updated_at": now,
                        "synced_at": now,
                    }
                )
            if inserts:
                number = self._reserve(session, Kind.REQUIREMENT, len(inserts))
                for offset, values in enumerate(inserts, start=1):
                    values.update(
                        project=self.project,
                        number=number + offset,
                        ext_id=values.pop("_id"),
                        ext_state=ExternalState.LINKED.value,
                        priority_override=None,
                        folder="",
                        created_at=now,
                        updated_at=now,
                        synced_at=now,
                    )
                session.execute(insert(table), inserts)
                counts.created += len(inserts)
            if updates:
                for values in updates:
                    values.pop("_id")
                session.execute(update(RequirementRow), updates)
            if stamps:
                session.execute(update(RequirementRow), stamps)
            if commit:
                session.commit()
            else:
                session.rollback()
        return counts

    def _reserve(self, session: Session, kind: Kind, count: int) -> int:
        """Reserve `count` numbers; returns the last number used before them."""
        return counters.reserve(session, self.project, kind, count)

    def linked_requirements(self, *, excluding: Container[str] = ()) -> list[LinkedRequirement]:
        """Requirements linked to a tracker issue (or left out by the filter), except those
        whose issue id is in `excluding`: rows are streamed, so the issues a full sync
        just saw cost no memory however large the store."""
        columns = (
            col(RequirementRow.number),
            col(RequirementRow.ext_id),
            col(RequirementRow.ext_ref),
            col(RequirementRow.ext_key),
            col(RequirementRow.ext_state),
        )
        stmt = sa_select(*columns).where(
            col(RequirementRow.project) == self.project,
            col(RequirementRow.ext_id).is_not(None),
            col(RequirementRow.ext_state).in_(
                [ExternalState.LINKED.value, ExternalState.LEFT_FILTER.value]
            ),
        )
        with Session(self.engine) as session:
            rows = session.execute(stmt.execution_options(yield_per=2_000))
            return [
                LinkedRequirement(n, i or "", r or "", k or "", s or "")
                for n, i, r, k, s in rows
                if i not in excluding
            ]

    def mark_gone(self, numbers: Iterable[int], state: ExternalState) -> int:
        numbers = list(numbers)
        if not numbers:
            return 0
        with Session(self.engine) as session:
            result = session.execute(
                update(RequirementRow)
                .where(
                    col(RequirementRow.project) == self.project,
                    col(RequirementRow.number).in_(numbers),
                )
                .values(
                    ext_state=state.value,
                    status=RequirementStatus.DEPRECATED.value,
                    updated_at=_now(),
                )
            )
            session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

    def repoint(self, old_id: str, new: RemoteIssue) -> bool:
        """A GitLab move: the requirement of `old_id` now follows the new issue."""
        with Session(self.engine) as session:
            row = session.exec(
                select(RequirementRow).where(
                    RequirementRow.project == self.project, RequirementRow.ext_id == old_id
                )
            ).first()
            clash = session.exec(
                select(RequirementRow).where(
                    RequirementRow.project == self.project, RequirementRow.ext_id == new.id
                )
            ).first()
            if row is None or clash is not None:
                return False
            row.ext_id, row.ext_key, row.ext_ref, row.ext_url = new.id, new.key, new.ref, new.url
            row.updated_at = _now()
            session.add(row)
            session.commit()
            return True

    def refresh_reference(self, issue: RemoteIssue) -> None:
        """Keep key and URL current for an issue outside the filter (a Jira move)."""
        with Session(self.engine) as session:
            session.execute(
                update(RequirementRow)
                .where(
                    col(RequirementRow.project) == self.project,
                    col(RequirementRow.ext_id) == issue.id,
                )
                .values(ext_key=issue.key, ext_url=issue.url, ext_ref=issue.ref)
            )
            session.commit()

    def requirement_issue_ref(self, number: int) -> LinkedRequirement | None:
        with Session(self.engine) as session:
            row = session.exec(
                select(RequirementRow).where(
                    RequirementRow.project == self.project, RequirementRow.number == number
                )
            ).first()
        if row is None or not row.ext_id:
            return None
        return LinkedRequirement(
            row.number, row.ext_id, row.ext_ref or "", row.ext_key or "", row.ext_state or ""
        )

    def detach_all(self, session: Session) -> int:
        result = session.execute(
            update(RequirementRow)
            .where(
                col(RequirementRow.project) == self.project,
                col(RequirementRow.ext_id).is_not(None),
                col(RequirementRow.source) != Source.LOCAL.value,
            )
            .values(ext_state=ExternalState.DETACHED.value, updated_at=_now())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- defects ----------------------------------------------------------------------

    def defect_state(self, number: int) -> DefectState | None:
        with Session(self.engine) as session:
            row = session.exec(
                select(DefectRow).where(
                    DefectRow.project == self.project, DefectRow.number == number
                )
            ).first()
        return None if row is None else _defect_state(row)

    def pushed_defects(self) -> list[DefectState]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(DefectRow).where(
                    DefectRow.project == self.project, col(DefectRow.ext_id).is_not(None)
                )
            ).all()
        return [_defect_state(r) for r in rows]

    def prepare_push(self, number: int, marker: str) -> tuple[DefectState, bool]:
        """Give the defect its marker and queue its creation, once; True when queued now."""
        with Session(self.engine) as session:
            row = session.exec(
                select(DefectRow)
                .where(DefectRow.project == self.project, DefectRow.number == number)
                .with_for_update()
            ).one()
            if row.ext_id or row.marker:
                return _defect_state(row), False
            row.marker = marker
            row.sync_state = "pending"
            session.add(row)
            session.add(
                OutboxRow(
                    project=self.project,
                    kind="push",
                    target=format_id(Kind.DEFECT, number),
                    payload=json.dumps({"number": number}),
                    marker=marker,
                    created_at=_now(),
                    updated_at=_now(),
                )
            )
            for comment in session.exec(
                select(CommentRow).where(
                    CommentRow.defect_pk == row.pk,
                    col(CommentRow.remote_id).is_(None),
                    col(CommentRow.marker).is_(None),
                    CommentRow.origin == "local",
                )
            ):
                comment.marker = f"{marker}-c{comment.pk}"
                session.add(comment)
                session.add(
                    OutboxRow(
                        project=self.project,
                        kind="comment",
                        target=format_id(Kind.DEFECT, number),
                        payload=json.dumps({"comment_pk": comment.pk}),
                        marker=comment.marker,
                        created_at=_now(),
                        updated_at=_now(),
                    )
                )
            session.commit()
            return _defect_state(row), True

    def record_push(self, number: int, issue: RemoteIssue, outbox_pk: int, **base: str) -> None:
        now = _now()
        with Session(self.engine) as session:
            row = session.exec(
                select(DefectRow).where(
                    DefectRow.project == self.project, DefectRow.number == number
                )
            ).one()
            row.ext_platform = base.pop("platform")
            row.ext_id, row.ext_key, row.ext_ref, row.ext_url = (
                issue.id,
                issue.key,
                issue.ref,
                issue.url,
            )
            row.ext_state = ExternalState.LINKED.value
            row.base_title = base["title"]
            row.base_priority = base["priority"]
            row.base_status = base["status"]
            row.remote_updated = utc(issue.updated)
            row.remote_comment_count = issue.comment_count
            row.sync_state = "synced"
            row.sync_error = None
            row.synced_at = now
            session.add(row)
            _finish(session, outbox_pk)
            session.commit()

    def save_defect_sync(
        self,
        number: int,
        *,
        local: dict[str, str],
        base: dict[str, str],
        remote_updated: datetime | None,
        comment_count: int | None,
        error: str | None = None,
        finish: Sequence[int] = (),
    ) -> None:
        with Session(self.engine) as session:
            row = session.exec(
                select(DefectRow).where(
                    DefectRow.project == self.project, DefectRow.number == number
                )
            ).one()
            for key, value in local.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
                    row.updated_at = _now()
            row.base_title = base.get("title", row.base_title)
            row.base_priority = base.get("priority", row.base_priority)
            row.base_status = base.get("status", row.base_status)
            if remote_updated is not None:
                row.remote_updated = utc(remote_updated)
            if comment_count is not None:
                row.remote_comment_count = comment_count
            row.sync_state = "error" if error else "synced"
            row.sync_error = error
            row.synced_at = _now()
            session.add(row)
            for pk in finish:
                _finish(session, pk)
            session.commit()

    def set_sync_error(self, number: int, error: str) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(DefectRow)
                .where(col(DefectRow.project) == self.project, col(DefectRow.number) == number)
                .values(sync_state="error", sync_error=error)
            )
            session.commit()

    # -- comments ---------------------------------------------------------------------

    def comment(self, pk: int) -> LocalComment | None:
        with Session(self.engine) as session:
            row = session.get(CommentRow, pk)
        if row is None:
            return None
        return LocalComment(row.pk or 0, row.body, row.author, row.marker, row.remote_id)

    def record_comment_sent(self, pk: int, remote_id: str, outbox_pk: int) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(CommentRow).where(col(CommentRow.pk) == pk).values(remote_id=remote_id)
            )
            _finish(session, outbox_pk)
            session.commit()

    def import_comments(self, number: int, remote: Sequence[RemoteComment]) -> int:
        """Store tracker comments not seen before; ours (by marker) get their remote id."""
        if not remote:
            return 0
        with Session(self.engine) as session:
            defect = session.exec(
                select(DefectRow).where(
                    DefectRow.project == self.project, DefectRow.number == number
                )
            ).one()
            rows = list(session.exec(select(CommentRow).where(CommentRow.defect_pk == defect.pk)))
            known = {r.remote_id for r in rows if r.remote_id}
            by_marker = {r.marker: r for r in rows if r.marker}
            added = 0
            for item in remote:
                if item.id in known:
                    continue
                mine = by_marker.get(item.marker) if item.marker else None
                if mine is not None:
                    mine.remote_id = item.id
                    session.add(mine)
                    continue
                if item.marker:
                    continue
                session.add(
                    CommentRow(
                        defect_pk=defect.pk or 0,
                        body=item.body,
                        author=item.author,
                        origin="tracker",
                        remote_id=item.id,
                        created_at=stored(item.created),
                    )
                )
                added += 1
            session.commit()
            return added


def _finish(session: Session, outbox_pk: int) -> None:
    session.execute(
        update(OutboxRow)
        .where(col(OutboxRow.pk) == outbox_pk)
        .values(state="sent", last_error=None, updated_at=_now())
    )


def _defect_state(row: DefectRow) -> DefectState:
    return DefectState(
        number=row.number,
        title=row.title,
        description=row.description,
        priority=row.priority,
        status=row.status,
        marker=row.marker,
        ext_id=row.ext_id,
        ext_ref=row.ext_ref,
        ext_key=row.ext_key,
        ext_url=row.ext_url,
        base_title=row.base_title,
        base_priority=row.base_priority,
        base_status=row.base_status,
        remote_updated=maybe_utc(row.remote_updated),
        remote_comment_count=row.remote_comment_count,
        local_changed_at=maybe_utc(row.local_changed_at),
        synced_at=maybe_utc(row.synced_at),
        sync_state=row.sync_state,
    )
