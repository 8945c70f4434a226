"""Running `sync`: once, waiting for the lock, or in a loop; rendering its summary."""

from __future__ import annotations

import random
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from testkase_cli.cli.context import AppContext
from testkase_cli.errors import KaseError, LockedError, PartialSyncError, UsageError
from testkase_cli.output.terminal import Terminal

if TYPE_CHECKING:
    from testkase_cli.services.report import SyncReport

WAIT_POLL_S = 1.0


def run_sync(
    env: AppContext,
    *,
    full: bool,
    watch: bool,
    interval: int | None,
    dry_run: bool,
    wait: bool,
    as_json: bool,
) -> None:
    terminal = env.terminal(as_json=as_json)
    if interval is not None and interval < 1:
        raise UsageError("--interval must be at least 1 second")
    if not watch:
        report = _once(env, terminal, full=full, dry_run=dry_run, wait=wait)
        _render(terminal, report)
        if report.errors:
            raise PartialSyncError(
                f"sync finished with {len(report.errors)} failed item(s)",
                hint="see the errors above; they are retried by the next sync",
            )
        return
    period = interval or env.settings().interval
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        try:
            report = _once(env, terminal, full=full, dry_run=dry_run, wait=True)
        except KaseError as error:
            terminal.warn(f"sync failed, retrying in about {period} s: {error.message}")
        else:
            _render(terminal, report)
            full = False
        stop.wait(period * random.uniform(0.9, 1.1))  # noqa: S311 - jitter
    terminal.info("stopped")


def _once(
    env: AppContext, terminal: Terminal, *, full: bool, dry_run: bool, wait: bool
) -> SyncReport:
    from testkase_cli.cli.tracker import open_connected
    from testkase_cli.services import sync as service

    tracker = open_connected(env)
    try:
        while True:
            try:
                return service.run(
                    env.settings(),
                    env.store(),
                    tracker,
                    full=full,
                    dry_run=dry_run,
                    progress=_progress(terminal),
                )
            except LockedError:
                if not wait:
                    raise
                time.sleep(WAIT_POLL_S)
    finally:
        tracker.close()


def _progress(terminal: Terminal) -> Any:
    import sys

    if terminal.json_mode or not sys.stderr.isatty():
        return None
    counts: dict[str, int] = {}

    def tick(what: str, count: int) -> None:
        counts[what] = counts.get(what, 0) + count
        sys.stderr.write(f"\r{what}: {counts[what]} ")
        sys.stderr.flush()

    return tick


def _render(terminal: Terminal, report: SyncReport) -> None:
    if terminal.json_mode:
        terminal.data(report.as_json())
        return
    req, dfx, com, queue = report.requirements, report.defects, report.comments, report.queue
    rows = [
        ("requirements", ", ".join(f"{v} {k}" for k, v in req.items())),
        ("defects", ", ".join(f"{v} {k}" for k, v in dfx.items())),
        ("comments", ", ".join(f"{v} {k}" for k, v in com.items())),
        ("queue", f"{queue['pending']} pending, {queue['failed']} failed"),
        ("requests", f"{report.requests} in {report.duration_s:.1f} s"),
    ]
    terminal.fields(f"sync {report.project} ({report.platform}, {report.mode})", rows)
    for line in report.plan:
        terminal.line(f"  would {line}")
    for conflict in report.conflicts:
        terminal.line(
            f"  conflict on {conflict['item']} {conflict['field']}: local "
            f"{conflict['local']!r}, tracker {conflict['tracker']!r}; kept {conflict['kept']}"
        )
    for error in report.errors:
        terminal.warn(f"{error.item}: {error.message}")
