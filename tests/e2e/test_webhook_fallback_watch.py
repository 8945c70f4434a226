"""The fallback next to webhooks: `sync --watch` as a service. SIGTERM (what systemd and
docker send) ends it cleanly with exit 0, leaving a consistent store and no lock."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from tests.e2e.conftest import Tracker


@pytest.mark.parametrize("tracker", ["gitlab"], indirect=True)
@pytest.mark.parametrize("pause", [0.0, 0.4], ids=["between-syncs", "during-a-sync"])
def test_sigterm_stops_sync_watch_cleanly(tracker: Tracker, pause: float) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "testkase_cli", "sync", "--watch", "--interval", "1", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()  # the first summary: one sync is done
        assert first.startswith("{"), first
        if pause:
            tracker.faults(latency_ms=100)  # the next sync takes a while; stop inside it
            time.sleep(1.0 + pause)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    tracker.faults(latency_ms=0)
    assert process.returncode == 0, err
    assert len(tracker.cli("req", "list", "--json").json) == 12
    status = tracker.cli("status", "--json").json
    assert status["queue"]["pending"] == 0 and status["queue"]["failed"] == 0
    after = tracker.sync()  # no lock left behind (no exit 75), nothing half-applied
    assert after["exit"] == 0, after
    assert after["requirements"]["created"] == 0
