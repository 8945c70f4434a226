"""Opening a store: URL resolution, SQLite pragmas and file mode, driver checks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import create_engine

from testkase_cli.errors import StoreError, UsageError

POSTGRES_HINT = "install the driver: pip install 'testkase-cli[postgres]'"


def to_url(raw: str) -> URL:
    """An SQLAlchemy URL; a plain path means an SQLite file."""
    if "://" not in raw:
        return make_url(f"sqlite:///{Path(raw).expanduser().resolve()}")
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise UsageError(
            f"invalid database URL {raw!r}", hint="use a path or an SQLAlchemy URL"
        ) from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def create(raw: str) -> Engine:
    url = to_url(raw)
    if url.get_backend_name() == "sqlite":
        return _sqlite(url)
    if url.get_backend_name() == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise UsageError(
                "the PostgreSQL driver (psycopg 3) is not installed", hint=POSTGRES_HINT
            ) from exc
    try:
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise UsageError(f"no driver for database URL scheme {url.drivername!r}") from exc


def _sqlite(url: URL) -> Engine:
    database = url.database
    if database and database != ":memory:":
        path = Path(database)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            elif path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except OSError as exc:
            raise StoreError(f"cannot create the store at {path}: {exc.strerror}") from exc
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def unreachable(exc: OperationalError, url: str) -> StoreError:
    shown = to_url(url).render_as_string(hide_password=True)
    first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return StoreError(f"cannot open the store {shown}: {first}", hint="check --db / TESTKASE_DB")
