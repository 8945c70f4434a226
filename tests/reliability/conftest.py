"""Reliability suite: fault injection, kill -9, concurrency, bad input, secrets.

Two profiles. The short one runs by default (CI, well under 90 s). The long one runs
when TESTKASE_LONG=1: tests marked `slow` are skipped without it, and the counts
(`runs()`, `examples()`) grow. Every randomised test prints its seed (`-s` or a failure
report shows it); TESTKASE_SEED=<n> replays one.
"""

from __future__ import annotations

import os

import pytest
from tests.e2e.conftest import Tracker, tracker

__all__ = ["LONG", "Tracker", "examples", "runs", "seed_base", "tracker"]

LONG = os.environ.get("TESTKASE_LONG", "") not in ("", "0")


def runs(short: int, long: int) -> int:
    """How many seeded runs a parametrized test makes in this profile."""
    return long if LONG else short


def examples(short: int, long: int) -> int:
    """Hypothesis `max_examples` for this profile."""
    return long if LONG else short


def seed_base() -> int:
    return int(os.environ.get("TESTKASE_SEED", "0"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if LONG:
        return
    skip = pytest.mark.skip(reason="long profile only: set TESTKASE_LONG=1")
    for item in items:
        if "reliability" in str(item.path) and item.get_closest_marker("slow"):
            item.add_marker(skip)
