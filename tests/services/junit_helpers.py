"""JUnit reports for the tests: real ones written by pytest itself, hand-written
Surefire/Jest/Gradle-shaped samples, and hostile ones."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SAMPLES = Path(__file__).parent / "junit_samples"

TINY_SUITE = """
import pytest


def test_passes():
    assert 1 + 1 == 2


def test_fails():
    print("cart total computed")
    assert 2 * 2 == 5, "arithmetic is broken"


@pytest.fixture
def database():
    raise ConnectionError("database unreachable")


def test_errors(database):
    pass


def test_skipped():
    pytest.skip("needs a printer")


class TestCart:
    @pytest.mark.parametrize("qty", [1, 2])
    def test_adds(self, qty, record_property):
        record_property("requirement", "REQ-1")
        assert qty > 0
"""
"""Six test cases: 3 pass (two are one parametrized test), 1 fails, 1 errors, 1 skips."""


def pytest_report(directory: Path, *, family: str = "xunit2", name: str = "junit.xml") -> Path:
    """Run pytest on TINY_SUITE and return the JUnit XML it wrote."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "test_tiny_suite.py").write_text(TINY_SUITE)
    (directory / "pytest.ini").write_text("[pytest]\n")
    report = directory / name
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # a plain pytest, and a quick one
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            f"junit_family={family}",
            "-o",
            "junit_logging=system-out",
            "-W",
            "ignore::pytest.PytestWarning",
            f"--junitxml={report}",
            "test_tiny_suite.py",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert report.is_file()
    return report


@functools.cache
def shared_pytest_report() -> Path:
    """One real pytest report per test process, for tests that only read it."""
    directory = Path(tempfile.mkdtemp(prefix="testkase-junit-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return pytest_report(directory)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<testsuite name="lolz"><testcase classname="a" name="&lol9;"/></testsuite>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuite name="x"><testcase classname="a" name="b"><failure message="&secret;"/></testcase>
</testsuite>
"""

TRUNCATED = b"""<?xml version="1.0"?>
<testsuites><testsuite name="s"><testcase classname="a.B" name="one"/><testcase classname="a.B"
"""
