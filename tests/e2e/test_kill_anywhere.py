"""kill -9 at random points of push and sync, then one more sync: nothing lost, nothing twice.

Short profile: 7 seeded runs per flavour (21 in all). Long profile:
TESTKASE_CRASH_RUNS=50 python -m pytest tests/e2e/test_kill_anywhere.py
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter

import pytest
from tests.e2e.conftest import Tracker

RUNS = int(os.environ.get("TESTKASE_CRASH_RUNS", "7"))


def _prepare(tracker: Tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Queue link comments, defect pushes and comments while the tracker is down."""
    tracker.sync()
    tracker.cli("case", "add", "Covers a lot")
    for n in range(5):
        tracker.cli("defect", "add", f"Crash defect {n}", "--priority", "major")
        tracker.cli("defect", "comment", f"DEF-{n + 1}", f"note {n}")
    monkeypatch.setenv("TESTKASE_RETRY_BUDGET", "0")
    tracker.faults(error_burst=10_000)
    for req in ("REQ-1", "REQ-2", "REQ-3", "REQ-4"):
        assert tracker.cli("link", "TC-1", req).code == 0
    assert tracker.cli("push", "--all").code == 4
    monkeypatch.setenv("TESTKASE_RETRY_BUDGET", "5")
    tracker.faults(error_burst=0, latency_ms=25)


def _check(tracker: Tracker) -> None:
    for _ in range(3):
        last = tracker.sync()
        if not last["errors"]:
            break
    assert last["errors"] == [], last["errors"]
    issues = tracker.defects_in_tracker()
    titles = Counter(i["title"] for i in issues)
    assert titles == Counter(f"Crash defect {n}" for n in range(5)), titles
    local = tracker.cli("defect", "list", "--json").json
    assert {d["external"]["id"] for d in local} == {i["id"] for i in issues}
    for issue in issues:
        bodies = Counter(c["body"].split("\n")[0] for c in issue["comments"])
        assert all(count == 1 for count in bodies.values()), bodies
    reqs = tracker.cli("req", "list", "--json").json
    assert len({r["external"]["id"] for r in reqs}) == len(reqs) == 12
    link_comments = Counter(
        issue["id"]
        for issue in tracker.issues()
        for comment in issue["comments"]
        if comment["body"].startswith("TestKase: test case TC-1")
    )
    assert sorted(link_comments.values()) == [1, 1, 1, 1], link_comments
    status = tracker.cli("status", "--json").json
    assert status["queue"]["pending"] == 0


@pytest.mark.parametrize("seed", range(RUNS))
def test_kill_during_push_then_sync_loses_nothing(
    tracker: Tracker, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed * 31 + len(tracker.flavor))
    _prepare(tracker, monkeypatch)
    command = rng.choice([["push", "--all"], ["sync"]])
    delay = rng.uniform(0.3, 1.4)
    print(f"seed={seed} flavor={tracker.flavor} command={command} kill after {delay:.2f}s")
    process = tracker.subprocess(*command)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    tracker.faults(latency_ms=0)
    _check(tracker)
