"""Several processes on one store at once: ids unique and never reused, one sync at a time.

- `req add` (and deletes) from several processes, on SQLite (WAL, busy timeout) and on a
  shared PostgreSQL store: every id printed is unique across all processes, nothing
  fails, no "database is locked" reaches the user.
- Two `sync` processes of one project sharing one PostgreSQL store: one exits 75 (or both
  succeed, the second after the first), both succeed with `--wait`, and no requirement is
  created twice.

PostgreSQL: postgresql+psycopg://postgres@127.0.0.1:5432/test (trust auth; .ci/run starts
it); every test uses its own project name, so the shared database needs no cleanup.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.cli.conftest import PG_URL, _postgres_available
from tests.e2e.conftest import FLAVORS, connect_args
from tests.reliability.conftest import LONG, Tracker

from testkase_cli.cli.sandbox import SANDBOX_TOKEN, build
from testkase_cli.sandbox.core import Server

WORKER = Path(__file__).with_name("rel_worker.py")
WORKERS = 8 if LONG else 3
ROUNDS = 25 if LONG else 4


def _testkase(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "testkase_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_store(request: pytest.FixtureRequest, isolated_env: Path, monkeypatch: Any) -> str:
    """A fresh project (own name) in the store kind under test; returns the store URL."""
    if request.param == "postgres":
        if not _postgres_available():
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is not reachable (.ci/run starts it)")
        url = PG_URL
    else:
        url = str(isolated_env / "shared.db")
    monkeypatch.setenv("TESTKASE_DB", url)
    project = f"rel{uuid.uuid4().hex[:12]}"
    done = subprocess.run(
        [sys.executable, "-m", "testkase_cli", "init", "--name", project],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Open the store once so the schema exists before the race (as in real use).
    listed = subprocess.run(
        [sys.executable, "-m", "testkase_cli", "req", "list", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0 and listed.stdout.strip() == "[]", listed.stderr
    return url


def _race_workers(rounds: int, *, delete: bool) -> list[dict[str, Any]]:
    start_at = time.time() + 1.0  # every worker has imported testkase by then
    extra = ["delete"] if delete else []
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(start_at), str(rounds), f"w{n}", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    results: list[dict[str, Any]] = []
    for worker in workers:
        code, out, err = _finish(worker, timeout=240)
        assert code == 0, err
        results.extend(json.loads(line) for line in out.splitlines() if line.strip())
    return results


def test_concurrent_req_add_gives_unique_ids_that_are_never_reused(shared_store: str) -> None:
    results = _race_workers(ROUNDS, delete=True)
    print(f"{len(results)} commands from {WORKERS} processes on {shared_store.split(':')[0]}")
    failed = [r for r in results if r["code"] != 0]
    assert not failed, failed[:3]
    assert not any("locked" in r["err"] for r in results)
    adds = [json.loads(r["out"]) for r in results if r["args"][:2] == ["req", "add"]]
    assert len(adds) == WORKERS * ROUNDS * 2
    ids = Counter(a["id"] for a in adds)
    assert all(n == 1 for n in ids.values()), [i for i, n in ids.items() if n > 1]
    numbers = sorted(int(i.split("-")[1]) for i in ids)
    assert numbers == list(range(1, len(numbers) + 1))  # no gap, no reuse
    remaining = subprocess.run(
        [sys.executable, "-m", "testkase_cli", "req", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    left = {r["id"] for r in json.loads(remaining.stdout)}
    deleted = {r["args"][2] for r in results if r["args"][:2] == ["req", "delete"]}
    assert left == set(ids) - deleted


@pytest.fixture
def pg_tracker(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """A Jira Server emulator and a project connected to it, stored in PostgreSQL."""
    if not _postgres_available():
        pytest.fail("PostgreSQL on 127.0.0.1:5432 is not reachable (.ci/run starts it)")
    server = Server(build("jira", "server", 1, 0))
    url = server.start()
    monkeypatch.setenv("TESTKASE_TOKEN", SANDBOX_TOKEN)
    monkeypatch.setenv("TESTKASE_DB", PG_URL)
    project = f"rel{uuid.uuid4().hex[:12]}"
    for args in (["init", "--name", project], connect_args("jira-server", url)):
        done = subprocess.run(
            [sys.executable, "-m", "testkase_cli", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    control = httpx.Client(base_url=url, timeout=30)
    try:
        yield control
    finally:
        control.close()
        server.stop()


def _requirements() -> list[dict[str, Any]]:
    listed = subprocess.run(
        [sys.executable, "-m", "testkase_cli", "req", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    result: list[dict[str, Any]] = json.loads(listed.stdout)
    return result


@pytest.mark.postgres
@pytest.mark.parametrize("wait", [False, True], ids=["exit-75", "wait"])
def test_two_syncs_sharing_a_postgres_store(pg_tracker: httpx.Client, wait: bool) -> None:
    pg_tracker.post("/_sandbox/faults", json={"latency_ms": 40}).raise_for_status()
    extra = ["--wait"] if wait else []
    first = _testkase("sync", "--json", *extra)
    second = _testkase("sync", "--json", *extra)
    outcomes = [_finish(first), _finish(second)]
    codes = sorted(code for code, _, _ in outcomes)
    print("exit codes:", codes)
    if wait:
        assert codes == [0, 0], [err for _, _, err in outcomes]
    else:
        assert codes in ([0, 0], [0, 75]), [err for _, _, err in outcomes]
        for code, out, err in outcomes:
            if code == 75:
                assert out == ""
                assert json.loads(err)["error"]["code"] == "locked"
    created = [json.loads(out)["requirements"]["created"] for code, out, _ in outcomes if code == 0]
    reqs = _requirements()
    ext = Counter(r["external"]["id"] for r in reqs)
    assert all(n == 1 for n in ext.values()), ext
    assert sum(created) == len(reqs) == 12
    assert len({r["id"] for r in reqs}) == len(reqs)


PUSH_RACES = [
    (flavor, rival)
    for flavor in (FLAVORS if LONG else ["gitlab"])
    for rival in (["push", "sync"] if LONG else ["push"])
]


@pytest.mark.parametrize(("tracker", "rival"), PUSH_RACES, indirect=["tracker"])
def test_racing_pushes_create_one_tracker_issue_per_defect(tracker: Tracker, rival: str) -> None:
    """`push --all` from two processes at once (or racing a sync that sends the same
    queued pushes): each defect still becomes exactly one tracker issue."""
    assert tracker.sync()["exit"] == 0
    for n in range(4):
        assert tracker.cli("defect", "add", f"Raced {n}").code == 0
    if rival == "sync":
        tracker.faults(error_burst=1_000)  # queue the pushes: the tracker is down
        tracker.cli("push", "--all")
        tracker.faults(error_burst=0)
    tracker.faults(latency_ms=60)  # long enough for the two to overlap
    first = tracker.subprocess("push", "--all", "--json")
    second = tracker.subprocess(*(["push", "--all"] if rival == "push" else ["sync"]), "--json")
    outcomes = [first.communicate(timeout=120), second.communicate(timeout=120)]
    codes = [first.returncode, second.returncode]
    print("exit codes:", codes, [err for _, err in outcomes])
    assert set(codes) <= {0, 75}, outcomes
    tracker.faults(latency_ms=0)
    assert tracker.sync()["exit"] == 0
    titles = Counter(i["title"] for i in tracker.defects_in_tracker())
    assert titles == Counter(f"Raced {n}" for n in range(4)), titles
    local = tracker.cli("defect", "list", "--json").json
    assert sorted(d["external"]["id"] for d in local) == sorted(
        i["id"] for i in tracker.defects_in_tracker()
    )


@pytest.mark.parametrize("tracker", ["jira-server"], indirect=True)
def test_req_add_during_a_sync_that_creates_requirements(tracker: Tracker) -> None:
    """Both take REQ numbers at once (the sync in batches): no number twice, none lost."""
    seeded = 400 if LONG else 150
    tracker.control.post("/_sandbox/seed", json={"count": seeded}).raise_for_status()
    tracker.faults(latency_ms=5)
    sync = tracker.subprocess("sync", "--json")
    time.sleep(0.3)  # the sync is listing by now
    results = _race_workers(6, delete=False)
    code, out, err = _finish(sync)
    assert code == 0, err
    assert all(r["code"] == 0 for r in results), [r["err"] for r in results if r["code"]]
    reqs = _requirements()
    numbers = sorted(int(r["id"].split("-")[1]) for r in reqs)
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(reqs) == 12 + seeded + WORKERS * 6
    created = json.loads(out)["requirements"]["created"]
    assert created == 12 + seeded
