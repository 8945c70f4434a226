"""`testkase webhook serve`: sync within seconds of a change in Jira or GitLab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from testkase_cli.cli.context import AppContext
from testkase_cli.errors import RejectedError

if TYPE_CHECKING:
    from collections.abc import Callable

    from testkase_cli.services.webhook import SyncTrigger
    from testkase_cli.services.webhook_server import WebhookServer

app = typer.Typer(help="Receive Jira and GitLab webhooks.", no_args_is_help=True)


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8787,
) -> None:
    """Listen for tracker webhooks (secret: TESTKASE_WEBHOOK_SECRET) and sync on each."""
    import signal
    import threading

    env = AppContext.of(ctx)
    running = start(env, host, port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    conn = env.settings().connection
    assert conn is not None
    log_line(
        f"listening on {running.server.url}/ for {conn.platform} webhooks of project "
        f"{conn.project}; Ctrl-C stops"
    )
    try:
        while not stop.wait(0.5):
            if running.trigger.crashed is not None:
                raise running.trigger.crashed
    finally:
        running.stop()
    log_line("stopped")


@dataclass
class Running:
    server: WebhookServer
    trigger: SyncTrigger

    def stop(self) -> None:
        self.server.stop()
        self.trigger.stop()


def log_line(text: str) -> None:
    """One unwrapped, timestamped line on stderr (a server log, not a terminal UI)."""
    import sys
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sys.stderr.write(f"{stamp} {text}\n")
    sys.stderr.flush()


def start(env: AppContext, host: str, port: int, log: Callable[[str], None] = log_line) -> Running:
    """Open the store, check the connection and secret, and start serving."""
    import os

    from testkase_cli.services.webhook import Receiver, SyncTrigger, secret_from
    from testkase_cli.services.webhook_server import WebhookServer

    secret = secret_from(os.environ)
    conn = env.settings().connection
    if conn is None:
        raise RejectedError(
            "this project is not connected to a tracker: there is nothing to sync",
            hint="connect first: testkase connect jira|gitlab --url URL ...",
        )
    env.store()
    trigger = SyncTrigger(lambda: _sync(env, log), log)
    server = WebhookServer(Receiver(secret, conn, trigger, log), host, port)
    trigger.start()
    server.start()
    return Running(server, trigger)


def _sync(env: AppContext, log: Callable[[str], None]) -> None:
    from testkase_cli.cli.tracker import open_connected
    from testkase_cli.services import sync

    tracker = open_connected(env)
    try:
        report = sync.run(env.settings(), env.store(), tracker)
    finally:
        tracker.close()
    req = report.requirements
    log(
        f"synced: {req['created']} created, {req['updated']} updated, "
        f"{req['deprecated']} deprecated, {report.defects['pulled']} defect(s) pulled, "
        f"{len(report.errors)} error(s) in {report.duration_s:.1f} s"
    )
    for error in report.errors:
        log(f"warning: {error.item}: {error.message}")
