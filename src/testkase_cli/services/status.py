"""`testkase status`: where things are, the connection, the last sync, the queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from testkase_cli.domain.settings import Settings
from testkase_cli.output.serialize import timestamp

if TYPE_CHECKING:
    from testkase_cli.store.repository import Store


def collect(settings: Settings, store: Store, database_url: str) -> dict[str, Any]:
    from testkase_cli.store.engine import to_url

    cursors = store.state.cursors()
    conn = settings.connection
    return {
        "project": settings.project,
        "config": str(settings.path) if settings.path else None,
        "store": to_url(database_url).render_as_string(hide_password=True),
        "connected": conn is not None,
        "connection": None
        if conn is None
        else {
            "platform": conn.platform,
            "deployment": conn.deployment,
            "url": conn.url,
            "project": conn.project,
            "issue_type": conn.issue_type,
        },
        "sync": {
            "last_sync_at": timestamp(cursors.last_sync_at),
            "last_full_at": timestamp(cursors.last_full_at),
            "last_summary": cursors.last_summary,
        },
        "queue": store.state.queue_counts(),
        "counts": store.state.counts(),
        "warnings": [],
    }
