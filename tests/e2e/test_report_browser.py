"""The HTML traceability report in a real headless Chromium: what a person sees, with
requirement titles from the tracker that try to run script."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest
from tests.e2e.conftest import Tracker
from tests.services.junit_helpers import shared_pytest_report

CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


def chromium(page: Path, profile: Path, *mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1280,1600",
            *mode,
            page.as_uri(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (.ci/run installs it)")
@pytest.mark.parametrize("tracker", ["gitlab"], indirect=True)
def test_report_renders_in_chromium(
    tracker: Tracker,
    tmp_path: Path,
    record_property: pytest.RecordProperty,
) -> None:
    issues = [i for i in tracker.issues() if "testkase-defect" not in i.get("labels", [])]
    tracker.edit(issues[0]["id"], title=SCRIPT)
    tracker.edit(issues[1]["id"], title=IMG)
    assert tracker.sync()["exit"] == 0
    reqs = {r["title"]: r["id"] for r in tracker.cli("req", "list", "--json").json}
    first = shared_pytest_report()
    assert tracker.cli("import", "junit", str(first), "--cycle", "Nightly").code == 0
    tracker.cli("link", "TC-2", reqs[SCRIPT])
    tracker.cli("link", "TC-1", reqs[IMG])
    rerun = tmp_path / "run2.xml"
    rerun.write_bytes(first.read_bytes() + b"<!-- rerun -->")
    pushed = tracker.cli(
        "import", "junit", str(rerun), "--cycle", "Release", "--defects", "--push", "--json"
    )
    assert pushed.code == 0, pushed.err
    page = tmp_path / "report.html"
    assert tracker.cli("report", "-o", str(page)).code == 0

    shot = tmp_path / "report.png"
    dom_run = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    shot_run = chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}")
    dom, dom_err = dom_run.communicate(timeout=60)
    _, shot_err = shot_run.communicate(timeout=60)
    assert dom_run.returncode == 0, dom_err[-2000:]
    assert shot_run.returncode == 0, shot_err[-2000:]

    record_property("screenshot", str(shot))
    print(f"\nreport screenshot: {shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000

    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    text = " ".join(text.split())
    assert re.search(r"<h1>Traceability report: web</h1>", dom)
    for heading in ("Coverage", "Traceability matrix", "Failing requirements"):
        assert re.search(rf"<h2 [^>]*>{heading}</h2>", dom), heading
    cov = tracker.cli("report", "--json").json["coverage"]
    assert cov["requirements"] + cov["deprecated_requirements"] == 12
    assert f"Requirements {cov['requirements']} Covered by a test case 2 (" in text
    assert "Test cases never run 0" in text and "Failing 1" in text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in dom and 'role="img"' in dom
    # The hostile titles are text on the page, not elements.
    assert f"{reqs[SCRIPT]} {SCRIPT}" in text
    assert IMG in text
    assert "<script" not in dom.lower() and "<img" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    # Defects link to their tracker issues (the failing requirement's, and the unlinked
    # test case's).
    defect_urls = [p["url"] for p in pushed.json["pushed"]]
    assert len(defect_urls) == 2
    assert all(f'href="{html.escape(u)}"' in dom for u in defect_urls)
