"""Sync-side persistence: the outbox, cursors, the per-project sync lock, counts."""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from testkase_cli.errors import LockedError
from testkase_cli.store.convert import maybe_utc, stored
from testkase_cli.store.tables import (
    CaseRow,
    CycleRow,
    DefectRow,
    ExecutionRow,
    OutboxRow,
    RequirementRow,
    SyncLockRow,
    SyncStateRow,
)

LOCK_STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class QueuedWrite:
    pk: int
    kind: str
    target: str
    payload: dict[str, Any]
    marker: str
    attempts: int
    state: str
    last_error: str | None


@dataclass(frozen=True)
class Cursors:
    connection_key: str
    requirements: datetime | None
    defects: datetime | None
    last_sync_at: datetime | None
    last_full_at: datetime | None
    last_reconcile_at: datetime | None
    last_summary: dict[str, Any] | None


class SyncState:
    def __init__(self, engine: Engine, project: str) -> None:
        self.engine = engine
        self.project = project

    # -- counts -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        result = {}
        with Session(self.engine) as session:
            for name, table in (
                ("requirements", RequirementRow),
                ("test cases", CaseRow),
                ("cycles", CycleRow),
                ("executions", ExecutionRow),
                ("defects", DefectRow),
            ):
                stmt = select(func.count()).select_from(table).where(table.project == self.project)
                result[name] = int(session.exec(stmt).one())
        return result

    # -- outbox -----------------------------------------------------------------------

    def queue_counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxRow.state, func.count())
                .where(OutboxRow.project == self.project)
                .group_by(col(OutboxRow.state))
            ).all()
        counts = {"pending": 0, "failed": 0, "sent": 0}
        counts.update({state: int(n) for state, n in rows})
        return counts

    def queued(self, *, include_failed: bool = True) -> list[QueuedWrite]:
        states = ["pending", "failed"] if include_failed else ["pending"]
        with Session(self.engine) as session:
            rows = session.exec(
                select(OutboxRow)
                .where(OutboxRow.project == self.project, col(OutboxRow.state).in_(states))
                .order_by(col(OutboxRow.pk))
            ).all()
        return [
            QueuedWrite(
                pk=r.pk or 0,
                kind=r.kind,
                target=r.target,
                payload=json.loads(r.payload),
                marker=r.marker,
                attempts=r.attempts,
                state=r.state,
                last_error=r.last_error,
            )
            for r in rows
        ]

    def mark_attempt(self, pk: int) -> None:
        """Record, before the request, that an attempt is being made (crash evidence)."""
        with Session(self.engine) as session:
            session.execute(
                update(OutboxRow)
                .where(col(OutboxRow.pk) == pk)
                .values(attempts=OutboxRow.attempts + 1, updated_at=stored(_now()))
            )
            session.commit()

    def finish(self, session: Session, pk: int, *, error: str | None = None) -> None:
        """Mark a write done (or failed) inside the caller's transaction."""
        session.execute(
            update(OutboxRow)
            .where(col(OutboxRow.pk) == pk)
            .values(
                state="failed" if error else "sent",
                last_error=error,
                updated_at=stored(_now()),
            )
        )

    def sent(self, pk: int) -> None:
        with Session(self.engine) as session:
            self.finish(session, pk)
            session.commit()

    def fail(self, pk: int, error: str) -> None:
        with Session(self.engine) as session:
            self.finish(session, pk, error=error)
            session.commit()

    def note_error(self, pk: int, error: str) -> None:
        """Keep a transient error on a write that stays pending."""
        with Session(self.engine) as session:
            session.execute(
                update(OutboxRow).where(col(OutboxRow.pk) == pk).values(last_error=error)
            )
            session.commit()

    # -- cursors ----------------------------------------------------------------------

    def cursors(self) -> Cursors:
        with Session(self.engine) as session:
            row = session.get(SyncStateRow, self.project)
        if row is None:
            return Cursors("", None, None, None, None, None, None)
        return Cursors(
            connection_key=row.connection_key,
            requirements=maybe_utc(row.requirements_cursor),
            defects=maybe_utc(row.defects_cursor),
            last_sync_at=maybe_utc(row.last_sync_at),
            last_full_at=maybe_utc(row.last_full_at),
            last_reconcile_at=maybe_utc(row.last_reconcile_at),
            last_summary=json.loads(row.last_summary) if row.last_summary else None,
        )

    def save_cursors(self, **values: Any) -> None:
        with Session(self.engine) as session:
            row = session.get(SyncStateRow, self.project)
            if row is None:
                row = SyncStateRow(project=self.project)
            for key, value in values.items():
                if isinstance(value, datetime):
                    value = stored(value)
                elif isinstance(value, dict):
                    value = json.dumps(value)
                setattr(row, key, value)
            session.add(row)
            session.commit()

    def reset_cursors(self, session: Session, connection_key: str) -> None:
        row = session.get(SyncStateRow, self.project)
        if row is not None:
            session.delete(row)
            session.flush()
        session.add(SyncStateRow(project=self.project, connection_key=connection_key))

    # -- lock -------------------------------------------------------------------------

    def acquire(self) -> str:
        """Take the project's sync lock, or raise LockedError (exit 75)."""
        owner = uuid.uuid4().hex
        host, pid = socket.gethostname(), os.getpid()
        now = stored(_now())
        with Session(self.engine) as session:
            try:
                session.add(
                    SyncLockRow(
                        project=self.project, owner=owner, host=host, pid=pid, heartbeat_at=now
                    )
                )
                session.commit()
                return owner
            except IntegrityError:
                session.rollback()
            holder = session.get(SyncLockRow, self.project, with_for_update=True)
            if holder is not None and not self._stale(holder, now):
                raise LockedError(
                    f"another sync of project {self.project!r} is running "
                    f"(pid {holder.pid} on {holder.host})",
                    hint="wait for it, or use: testkase sync --wait",
                )
            result = session.execute(
                update(SyncLockRow)
                .where(
                    col(SyncLockRow.project) == self.project,
                    col(SyncLockRow.owner) == (holder.owner if holder else ""),
                )
                .values(owner=owner, host=host, pid=pid, heartbeat_at=now)
            )
            session.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise LockedError(
                    f"another sync of project {self.project!r} just started",
                    hint="wait for it, or use: testkase sync --wait",
                )
        return owner

    def _stale(self, holder: SyncLockRow, now: datetime) -> bool:
        if holder.host == socket.gethostname() and holder.pid != os.getpid():
            try:
                os.kill(holder.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        return now - holder.heartbeat_at > LOCK_STALE_AFTER

    def heartbeat(self, owner: str) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(SyncLockRow)
                .where(col(SyncLockRow.project) == self.project, col(SyncLockRow.owner) == owner)
                .values(heartbeat_at=stored(_now()))
            )
            session.commit()

    def release(self, owner: str) -> None:
        with Session(self.engine) as session:
            row = session.get(SyncLockRow, self.project)
            if row is not None and row.owner == owner:
                session.delete(row)
                session.commit()


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
