"""kill -9 at random points of `link` and `import junit --defects --push`, then recovery.

The recovery is what a user or a CI job does: run the same commands again, then `sync`.
After it: every link is recorded once and its tracker comment posted once; every JUnit
result is recorded once (no duplicate test case, execution or defect) and every defect
is one tracker issue. tests/e2e/test_kill_anywhere.py covers `push` and `sync`.

Short profile: 2 seeded runs of each. Long profile (TESTKASE_LONG=1): 9 per flavour of
each (54 runs); TESTKASE_SEED shifts the seeds.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.e2e.conftest import FLAVORS
from tests.reliability.conftest import LONG, Tracker, seed_base
from tests.reliability.rel_support import cli_ok

WORKER = Path(__file__).with_name("rel_worker.py")
LINKED = ["REQ-1", "REQ-2", "REQ-3", "REQ-4", "REQ-5"]
FAILING = 4
PASSING = 26


def _cases(runs_per_flavor: int, short: list[tuple[str, int]]) -> list[tuple[str, int]]:
    if LONG:
        return [(f, seed) for f in FLAVORS for seed in range(runs_per_flavor)]
    return short


def _kill_after(process: subprocess.Popen[str], delay: float, latency_ms: int) -> str:
    time.sleep(delay)
    outcome = "killed" if process.poll() is None else f"finished ({process.returncode})"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    # A request already sent when the process died is still being handled (the emulator's
    # latency): let it land before the rerun looks for it, as any later rerun would.
    time.sleep(latency_ms / 1000 + 0.2)
    return outcome


@pytest.mark.parametrize(
    ("tracker", "seed"),
    _cases(9, [("jira-cloud", 0), ("gitlab", 1)]),
    indirect=["tracker"],
)
def test_kill_during_link_then_rerun_and_sync_posts_each_comment_once(
    tracker: Tracker, seed: int
) -> None:
    seed += seed_base()
    rng = random.Random(f"link-{tracker.flavor}-{seed}")
    assert tracker.sync()["exit"] == 0
    cli_ok(tracker, "case", "add", "Covers everything")
    latency = rng.choice([20, 50, 90])
    delay = rng.uniform(0.4, 2.0)
    commands = [["link", "TC-1", req] for req in LINKED]
    tracker.faults(latency_ms=latency)
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), "run", json.dumps(commands)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    outcome = _kill_after(worker, delay, latency)
    print(f"seed={seed} {tracker.flavor} latency={latency}ms kill at {delay:.2f}s: {outcome}")
    tracker.faults(latency_ms=0)
    for command in commands:
        cli_ok(tracker, *command)
    assert tracker.sync()["errors"] == []

    case = cli_ok(tracker, "case", "show", "TC-1", "--json").json
    linked = case.get("requirements") or case.get("links") or []
    assert sorted(r if isinstance(r, str) else r["id"] for r in linked) == LINKED
    keys = {cli_ok(tracker, "req", "show", r, "--json").json["external"]["id"] for r in LINKED}
    comments = Counter(
        issue["id"]
        for issue in tracker.issues()
        for comment in issue["comments"]
        if comment["body"].startswith("TestKase: test case TC-1")
    )
    assert comments == Counter(dict.fromkeys(keys, 1)), comments
    assert cli_ok(tracker, "status", "--json").json["queue"]["pending"] == 0


def _junit(path: Path) -> Path:
    cases = [
        f'<testcase classname="tests.kill" name="test_pass_{n}" time="0.01"/>'
        for n in range(PASSING)
    ] + [
        f'<testcase classname="tests.kill" name="test_fail_{n}" time="0.01">'
        f'<failure message="boom {n}">assert {n} == -1</failure></testcase>'
        for n in range(FAILING)
    ]
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuites><testsuite name="kill" tests="{len(cases)}" failures="{FAILING}" '
        'timestamp="2026-01-05T10:00:00">' + "".join(cases) + "</testsuite></testsuites>\n"
    )
    return path


@pytest.mark.parametrize(
    ("tracker", "seed"),
    _cases(9, [("jira-server", 0), ("gitlab", 1)]),
    indirect=["tracker"],
)
def test_kill_during_import_junit_then_rerun_and_sync_loses_nothing(
    tracker: Tracker, seed: int
) -> None:
    seed += seed_base()
    rng = random.Random(f"junit-{tracker.flavor}-{seed}")
    assert tracker.sync()["exit"] == 0
    report = _junit(tracker.workdir / "junit.xml")
    command = ["import", "junit", str(report), "--cycle", "nightly", "--defects", "--push"]
    latency = rng.choice([20, 50, 90])
    delay = rng.uniform(0.3, 2.5)
    tracker.faults(latency_ms=latency)
    process = tracker.subprocess(*command, "--json")
    outcome = _kill_after(process, delay, latency)
    print(f"seed={seed} {tracker.flavor} latency={latency}ms kill at {delay:.2f}s: {outcome}")
    tracker.faults(latency_ms=0)
    again = tracker.cli(*command, "--json")
    assert again.code == 0, again.err
    assert tracker.sync()["errors"] == []

    cases = cli_ok(tracker, "case", "list", "--json").json
    titles = Counter(c["title"] for c in cases)
    assert len(cases) == PASSING + FAILING and all(n == 1 for n in titles.values()), titles
    cycle = cli_ok(tracker, "cycle", "show", "nightly", "--json").json
    executions = cycle.get("executions", [])
    assert len(executions) == PASSING + FAILING, len(executions)
    defects = cli_ok(tracker, "defect", "list", "--json").json
    assert len(defects) == FAILING, [d["title"] for d in defects]
    assert all(d["external"] is not None for d in defects), [(d["id"], d["sync"]) for d in defects]
    issues = tracker.defects_in_tracker()
    assert Counter(i["title"] for i in issues) == Counter(d["title"] for d in defects)
    assert sorted(d["external"]["id"] for d in defects) == sorted(i["id"] for i in issues)


@pytest.mark.parametrize("tracker", ["gitlab"], indirect=True)
def test_rerun_of_an_import_whose_push_never_started_pushes_its_defects(
    tracker: Tracker,
) -> None:
    """The state a kill -9 leaves between the import's commit and its push: imported,
    defects created, nothing queued. Running the same command again must push them."""
    assert tracker.sync()["exit"] == 0
    report = _junit(tracker.workdir / "junit.xml")
    command = ["import", "junit", str(report), "--cycle", "nightly", "--defects"]
    cli_ok(tracker, *command)  # as if killed right before the push
    cli_ok(tracker, *command, "--push")
    assert tracker.sync()["errors"] == []
    defects = cli_ok(tracker, "defect", "list", "--json").json
    assert len(defects) == FAILING
    assert all(d["external"] is not None for d in defects), [d["sync"] for d in defects]
