"""Opening the store: engine, migrations, and the repositories over it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from testkase_cli.store import engine as engines
from testkase_cli.store.catalog import Catalog
from testkase_cli.store.migrations import migrate
from testkase_cli.store.state import SyncState
from testkase_cli.store.syncrepo import SyncRepo


@dataclass
class Store:
    engine: Engine
    project: str
    catalog: Catalog
    state: SyncState
    sync: SyncRepo

    @classmethod
    def open(cls, url: str, project: str) -> Store:
        engine = engines.create(url)
        try:
            migrate(engine)
        except OperationalError as exc:
            raise engines.unreachable(exc, url) from exc
        return cls(
            engine=engine,
            project=project,
            catalog=Catalog(engine, project),
            state=SyncState(engine, project),
            sync=SyncRepo(engine, project),
        )

    def detach(self) -> int:
        """What `reset` does: synced items become plain local data; cursors start over."""
        from sqlmodel import Session

        with Session(self.engine) as session:
            count = self.sync.detach_all(session)
            self.state.reset_cursors(session, "")
            session.commit()
        return count
