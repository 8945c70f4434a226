"""`testkase status`: where things are, the connection, the last sync, the queue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from testkase_cli.domain import mapping
from testkase_cli.domain.models import DefectStatus, iso_utc
from testkase_cli.domain.settings import Settings
from testkase_cli.errors import KaseError
from testkase_cli.ports import Tracker

if TYPE_CHECKING:
    from testkase_cli.store.repository import Store

EXPIRY_WARNING = timedelta(days=14)


def remote(settings: Settings, tracker: Tracker, token_source: str, today: date) -> dict[str, Any]:
    """What only the tracker can tell: the account, the token's expiry, priority levels."""
    conn = settings.connection
    assert conn is not None
    info: dict[str, Any] = {"token_source": token_source, "warnings": []}
    try:
        account = tracker.whoami()
        pushed_as = tracker.priority_mapping()
    except KaseError as error:
        info["warnings"].append(f"the tracker did not answer: {error.message}")
        return info
    info["account"] = account.name
    info["token_expires"] = account.token_expires
    if account.token_expires:
        left = date.fromisoformat(account.token_expires[:10]) - today
        if left <= EXPIRY_WARNING:
            info["warnings"].append(
                f"the token expires on {account.token_expires} ({left.days} days): renew it "
                "and run testkase connect again"
            )
    info["priority_mapping"] = {p.value: name for p, name in pushed_as.items()}
    info["status_mapping"] = {
        s.value: mapping.defect_status_target(conn.platform, s, settings.defect_status)
        for s in DefectStatus
    }
    return info


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
            "last_sync_at": iso_utc(cursors.last_sync_at),
            "last_full_at": iso_utc(cursors.last_full_at),
            "last_summary": cursors.last_summary,
        },
        "queue": store.state.queue_counts(),
        "counts": store.state.counts(),
        "warnings": [],
    }
