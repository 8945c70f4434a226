"""Fault injection against the emulator over HTTP, then one more sync: consistent.

Each run does a session of every kind of tracker write (rel_support.faulted_work) while
the emulator misbehaves, clears the fault, and checks (rel_support.check_consistent):
no duplicate issue or comment, nothing lost, the cursor never ahead of what was applied.

Faults: 429 storms (every 2nd request, with Retry-After), 5xx bursts (502/503/504),
connection resets (before or after the tracker handled the request), responses slower
than the client timeout (TESTKASE_HTTP_TIMEOUT), and responses lost after the tracker
processed the write (create issue, add comment, transitions / state changes).

Short profile: each fault once, flavours rotated, lost responses on every flavour.
Long profile (TESTKASE_LONG=1): every fault x every flavour x 3 seeds, plus mixed faults.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from tests.e2e.conftest import FLAVORS
from tests.reliability.conftest import LONG, Tracker, seed_base
from tests.reliability.rel_support import baseline, check_consistent, faulted_work

CREATE = {"jira": r"POST /rest/api/[23]/issue", "gitlab": r"POST /api/v4/projects/[^/]+/issues"}
COMMENT = {
    "jira": r"POST /rest/api/[23]/issue/[^/]+/comment",
    "gitlab": r"POST /api/v4/projects/[^/]+/issues/\d+/notes",
}
TRANSITION = {
    "jira": r"POST /rest/api/[23]/issue/[^/]+/transitions",
    "gitlab": r"PUT /api/v4/projects/[^/]+/issues/\d+",
}


def fault_for(kind: str, platform: str, rng: random.Random) -> tuple[dict[str, Any], float]:
    """(the emulator faults, the client timeout in seconds or 0 for the default)."""
    if kind == "rate-limit":
        return {"rate_limit_every": 2, "retry_after_s": rng.choice([0, 1] if LONG else [0])}, 0
    if kind == "5xx":
        status = rng.choice([502, 503, 504])
        return {"error_burst": rng.randint(2, 8), "error_status": status}, 0
    if kind == "reset":
        every = rng.randint(2, 5)
        return {"reset_every": every, "reset_after_handling": rng.random() < 0.5}, 0
    if kind == "timeout":
        return {"latency_ms": rng.choice([500, 800])}, 0.3
    if kind == "lost":
        patterns = [CREATE[platform], COMMENT[platform], TRANSITION[platform]]
        return {"lose_response": patterns, "lose_every": rng.choice([1, 2])}, 0
    mixed: dict[str, Any] = {}
    timeout = 0.0
    for part in rng.sample(["rate-limit", "5xx", "reset", "timeout", "lost"], k=2):
        faults, part_timeout = fault_for(part, platform, rng)
        mixed.update(faults)
        timeout = max(timeout, part_timeout)
    return mixed, timeout


KINDS = ["rate-limit", "5xx", "reset", "timeout", "lost"]
if LONG:
    CASES = [
        (flavor, kind, seed)
        for kind in [*KINDS, "mixed"]
        for flavor in FLAVORS
        for seed in range(3 if kind != "mixed" else 5)
    ]
else:
    CASES = [
        ("gitlab", "rate-limit", 0),
        ("jira-cloud", "5xx", 0),
        ("jira-server", "reset", 0),
        ("jira-cloud", "timeout", 0),
        *((flavor, "lost", 0) for flavor in FLAVORS),
    ]


@pytest.mark.parametrize(("tracker", "kind", "seed"), CASES, indirect=["tracker"])
def test_after_a_fault_one_more_sync_is_consistent(
    tracker: Tracker, kind: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed += seed_base()
    rng = random.Random(f"{kind}-{tracker.flavor}-{seed}")
    session = baseline(tracker)
    faults, timeout = fault_for(kind, tracker.platform, rng)
    print(f"seed={seed} flavor={tracker.flavor} kind={kind} faults={faults} timeout={timeout}")
    if timeout:
        monkeypatch.setenv("TESTKASE_HTTP_TIMEOUT", str(timeout))
    monkeypatch.setenv("TESTKASE_RETRY_BUDGET", "1" if timeout else "2")
    tracker.faults(**faults)
    faulted_work(tracker, session)
    print("exit codes under the fault:", session.codes)
    if kind == "rate-limit":
        assert all(code == 0 for _, code in session.codes), session.codes
    tracker.faults(
        latency_ms=0,
        rate_limit_every=0,
        error_burst=0,
        reset_every=0,
        lose_response=[],
    )
    # Requests the client gave up on are still being handled: let them land first.
    time.sleep(faults.get("latency_ms", 0) / 1000 + 0.2)
    monkeypatch.delenv("TESTKASE_HTTP_TIMEOUT", raising=False)
    monkeypatch.setenv("TESTKASE_RETRY_BUDGET", "5")
    check_consistent(tracker, session)


@pytest.mark.parametrize("status", [502, 504])
@pytest.mark.parametrize("tracker", ["jira-cloud"], indirect=True)
def test_a_5xx_on_a_search_sent_as_post_is_retried_like_a_read(
    tracker: Tracker, status: int
) -> None:
    """Jira Cloud's search and bulkfetch are POSTs that change nothing: a 502/504 there
    is retried within the budget, not reported as a write that may have been applied."""
    tracker.faults(error_burst=2, error_status=status)
    done = tracker.sync("--full")
    assert done["exit"] == 0, done
    assert done["requirements"]["created"] == 12
