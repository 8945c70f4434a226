"""`import junit --defects --push` over HTTP: failures become tracker issues, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.conftest import Tracker
from tests.services.junit_helpers import shared_pytest_report


@pytest.fixture
def pytest_xml() -> Path:
    return shared_pytest_report()


def test_failed_tests_are_pushed_once(tracker: Tracker, pytest_xml: Path) -> None:
    tracker.sync()
    args = ("import", "junit", str(pytest_xml), "--cycle", "CI", "--defects", "--push", "--json")
    first = tracker.cli(*args)
    assert first.code == 0, first.err
    data = first.json
    assert data["defects"] == ["DEF-1", "DEF-2"]
    assert [p["id"] for p in data["pushed"]] == ["DEF-1", "DEF-2"]
    assert all(p["key"] and p["url"].startswith("http") for p in data["pushed"])
    remote = tracker.defects_in_tracker()
    assert len(remote) == 2
    assert any("arithmetic is broken" in (i.get("title") or i.get("summary") or "") for i in remote)
    again = tracker.cli(*args)
    assert again.code == 0, again.err
    assert again.json["defects"] == [] and again.json["pushed"] == []
    assert len(tracker.defects_in_tracker()) == 2
