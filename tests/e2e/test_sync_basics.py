"""Requirements in, link comments out: the everyday sync, over HTTP, on all three flavours."""

from __future__ import annotations

import time

from tests.e2e.conftest import Tracker


def test_first_sync_pulls_every_requirement_once(tracker: Tracker) -> None:
    first = tracker.sync()
    assert first["exit"] == 0, first["errors"]
    assert first["mode"] == "full"
    assert first["requirements"]["created"] == 12
    reqs = tracker.cli("req", "list", "--json").json
    assert len(reqs) == 12
    assert len({r["external"]["id"] for r in reqs}) == 12
    assert all(r["source"] == tracker.platform and r["read_only"] for r in reqs)
    again = tracker.sync()
    assert again["mode"] == "incremental"
    assert again["requirements"]["created"] == 0
    assert len(tracker.cli("req", "list", "--json").json) == 12


def test_no_change_sync_makes_at_most_two_list_requests(tracker: Tracker) -> None:
    tracker.sync()
    tracker.cli("defect", "add", "Broken")
    assert tracker.cli("push", "DEF-1").code == 0
    tracker.sync()
    before = tracker.stats()["by_endpoint"]
    quiet = tracker.sync()
    after = tracker.stats()["by_endpoint"]
    assert quiet["exit"] == 0
    made = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    listings = {k: n for k, n in made.items() if k.startswith("GET") or "search" in k}
    listings = {k: n for k, n in listings.items() if "issues" in k or "search" in k}
    assert sum(listings.values()) <= 2, made
    assert quiet["requests"] <= 3, made


def test_synced_requirement_is_read_only_but_folder_is_editable(tracker: Tracker) -> None:
    tracker.sync()
    refused = tracker.cli("req", "edit", "REQ-1", "--title", "mine now", "--json")
    assert refused.code == 6
    assert "tracker" in refused.error["hint"]
    moved = tracker.cli("req", "edit", "REQ-1", "--folder", "web/auth", "--json")
    assert moved.code == 0
    assert moved.json["folder"] == "web/auth"
    assert tracker.sync()["requirements"]["created"] == 0
    assert tracker.cli("req", "show", "REQ-1", "--json").json["folder"] == "web/auth"


def test_link_posts_one_comment_and_unlink_another(tracker: Tracker) -> None:
    tracker.sync()
    req = tracker.cli("req", "show", "REQ-1", "--json").json
    tracker.cli("case", "add", "Sign in with a passkey", "--priority", "P1")
    linked = tracker.cli("link", "TC-1", "REQ-1", "--json").json
    assert linked["comment"] == "posted"
    assert tracker.cli("link", "TC-1", "REQ-1", "--json").json["changed"] is False
    tracker.sync()
    issue = next(i for i in tracker.issues() if i["id"] == req["external"]["id"])
    bodies = [c["body"] for c in issue["comments"]]
    assert len(bodies) == 1
    assert "TC-1" in bodies[0] and "Sign in with a passkey" in bodies[0] and "P1" in bodies[0]
    tracker.cli("unlink", "TC-1", "REQ-1")
    issue = next(i for i in tracker.issues() if i["id"] == req["external"]["id"])
    assert len(issue["comments"]) == 2
    assert "no longer covers" in issue["comments"][1]["body"]


def test_link_while_the_tracker_is_down_is_queued_then_sent(tracker: Tracker) -> None:
    tracker.sync()
    tracker.cli("case", "add", "Offline case")
    tracker.faults(error_burst=1000, error_status=503)
    offline = tracker.cli("link", "TC-1", "REQ-2", "--json")
    assert offline.code == 0
    assert offline.json["comment"] == "queued"
    status = tracker.cli("status", "--json").json
    assert status["queue"]["pending"] == 1
    tracker.faults(error_burst=0)
    done = tracker.sync()
    assert done["comments"]["pushed"] == 1
    assert done["queue"]["pending"] == 0
    assert tracker.sync()["comments"]["pushed"] == 0


def test_deleted_issue_is_deprecated_and_kept(tracker: Tracker) -> None:
    tracker.sync()
    req = tracker.cli("req", "show", "REQ-3", "--json").json
    tracker.cli("case", "add", "Keeps its link")
    tracker.cli("link", "TC-1", "REQ-3")
    tracker.control.delete(f"/_sandbox/issues/{req['external']['id']}").raise_for_status()
    result = tracker.sync("--full")
    assert result["requirements"]["deprecated"] == 1
    gone = tracker.cli("req", "show", "REQ-3", "--json").json
    assert gone["status"] == "Deprecated"
    assert gone["external"]["state"] == "deleted"
    assert gone["test_cases"] == ["TC-1"]
    assert gone["read_only"] is False


def test_rate_limited_every_third_request_still_completes(tracker: Tracker) -> None:
    tracker.faults(rate_limit_every=3, retry_after_s=0)
    result = tracker.sync()
    assert result["exit"] == 0, result["errors"]
    assert result["requirements"]["created"] == 12
    tracker.cli("defect", "add", "Under pressure")
    assert tracker.cli("push", "DEF-1").code == 0
    assert len(tracker.defects_in_tracker()) == 1


def test_second_sync_of_a_project_exits_75_or_waits(tracker: Tracker) -> None:
    import sqlite3

    tracker.sync()
    tracker.faults(latency_ms=300)
    running = tracker.subprocess("sync", "--full")
    try:
        deadline = time.monotonic() + 30
        store = tracker.workdir / "store.db"
        while time.monotonic() < deadline:
            with sqlite3.connect(store) as db:
                if db.execute("SELECT count(*) FROM tk_sync_lock").fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the first sync never took the lock")
        busy = tracker.cli("sync", "--json")
        assert busy.code == 75
        assert busy.error["code"] == "locked"
        waited = tracker.cli("sync", "--wait", "--json")
        assert waited.code == 0, waited.err
    finally:
        running.communicate(timeout=60)
    assert running.returncode == 0
