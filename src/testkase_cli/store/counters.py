"""Per-project id counters (REQ-n, TC-n, ...): numbers are taken atomically, never reused.

The counter is bumped with one `UPDATE ... RETURNING` statement. It takes the write lock
(SQLite) or the row lock (PostgreSQL) before it reads, so two processes can never read the
same value. A `SELECT ... FOR UPDATE` first does not do that on SQLite: FOR UPDATE is
ignored there and the read runs before the transaction begins, so two writers could
read the same `last` and hand out one number twice.
"""

from __future__ import annotations

from sqlalchemy import Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from testkase_cli.domain.models import Kind
from testkase_cli.errors import StoreError
from testkase_cli.store.tables import CounterRow

COUNTERS: Table = CounterRow.__table__  # type: ignore[attr-defined]


def reserve(session: Session, project: str, kind: Kind, count: int = 1) -> int:
    """Take `count` consecutive numbers of `kind` in `session`'s transaction; return the
    last number handed out before them (so the first new one is the result + 1)."""
    bump = (
        update(COUNTERS)
        .where(COUNTERS.c.project == project, COUNTERS.c.kind == kind.value)
        .values(last=COUNTERS.c.last + count)
        .returning(COUNTERS.c.last)
    )
    for _ in range(3):
        last = session.execute(bump).scalar()
        if last is not None:
            return int(last) - count
        try:
            with session.begin_nested():
                session.execute(
                    insert(COUNTERS).values(project=project, kind=kind.value, last=count)
                )
            return 0
        except IntegrityError:
            continue  # another writer created the counter first: bump theirs
    raise StoreError(f"could not take a new {kind.value} number in project {project!r}")
