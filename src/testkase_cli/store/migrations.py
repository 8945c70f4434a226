"""Named, ordered schema migrations, applied when a store is opened.

The applied version is a row in `tk_meta`. A store whose version is newer than this
tool knows is refused and left untouched. Each migration runs in its own transaction;
on PostgreSQL an advisory lock keeps two processes from migrating at once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from testkase_cli.errors import StoreError
from testkase_cli.store import tables

Migration = Callable[[Connection], None]

MIGRATE_LOCK_KEY = 7_243_001


def _initial(conn: Connection) -> None:
    SQLModel.metadata.create_all(
        conn,
        tables=[
            SQLModel.metadata.tables[str(model.__tablename__)]
            for model in (
                tables.CounterRow,
                tables.RequirementRow,
                tables.AttachmentRow,
                tables.CaseRow,
                tables.CaseRequirementRow,
                tables.CycleRow,
                tables.ExecutionRow,
                tables.DefectRow,
                tables.DefectRequirementRow,
                tables.CommentRow,
                tables.OutboxRow,
                tables.SyncStateRow,
                tables.SyncLockRow,
            )
        ],
    )


def _junit_results(conn: Connection) -> None:
    """`import junit` fingerprints: which file and test case produced which execution."""
    SQLModel.metadata.create_all(
        conn, tables=[SQLModel.metadata.tables[str(tables.JunitResultRow.__tablename__)]]
    )


MIGRATIONS: list[tuple[str, Migration]] = [
    ("0001_initial", _initial),
    ("0002_junit_results", _junit_results),
]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("tk_meta"):
        return 0
    row = conn.execute(text("SELECT value FROM tk_meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else 0


def migrate(engine: Engine) -> int:
    """Bring the store to SCHEMA_VERSION; return the version found before."""
    with engine.connect() as conn:
        found = current_version(conn)
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"this store has schema version {found}, newer than this testkase knows "
            f"({SCHEMA_VERSION}); it was left untouched",
            hint="upgrade testkase: pip install -U testkase-cli",
        )
    if found == SCHEMA_VERSION:
        return found
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATE_LOCK_KEY})"))
        SQLModel.metadata.create_all(conn, tables=[SQLModel.metadata.tables["tk_meta"]])
        version = current_version(conn)
        for index, (_name, migration) in enumerate(MIGRATIONS, start=1):
            if index <= version:
                continue
            migration(conn)
            version = index
        conn.execute(text("DELETE FROM tk_meta WHERE key = 'schema_version'"))
        conn.execute(
            text("INSERT INTO tk_meta (key, value) VALUES ('schema_version', :v)"),
            {"v": str(version)},
        )
    return found
