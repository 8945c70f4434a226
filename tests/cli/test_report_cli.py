"""`testkase report` through the CLI: formats, output file, errors; and the new commands'
--help stays light (no SQLAlchemy, httpx or defusedxml imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.conftest import Runner


def test_report_formats_and_output_file(cli: Runner, tmp_path: Path) -> None:
    empty = cli("report", "--json")
    assert empty.code == 0
    assert empty.json["coverage"]["requirements"] == 0
    cli("req", "add", "Checkout <works>")
    cli("req", "add", "Nobody tests me")
    cli("case", "add", "Pay by card")
    cli("link", "TC-1", "REQ-1")
    cli("cycle", "add", "Sprint 1")
    cli("exec", "CY-1", "TC-1", "--result", "failed", "--defect", "Card declined")
    data = cli("report", "--format", "json").json
    assert data["coverage"]["verdicts"]["failing"] == 1
    assert data["coverage"]["verdicts"]["uncovered"] == 1
    assert data["requirements"][0]["test_cases"][0]["results"] == {"CY-1": "Failed"}
    assert data["requirements"][0]["defects"][0]["id"] == "DEF-1"
    page = cli("report")
    assert page.code == 0
    assert page.out.startswith("<!DOCTYPE html>")
    assert "Checkout &lt;works&gt;" in page.out
    markdown = cli("report", "--format", "md")
    assert "| REQ-1 Checkout &lt;works&gt; | failing |" in markdown.out
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    written = cli("report", "-o", str(target))
    assert written.code == 0 and written.out == ""
    assert "wrote" in written.err
    assert target.read_text(encoding="utf-8") == page.out.replace(
        _stamp(page.out), _stamp(target.read_text(encoding="utf-8"))
    )


def _stamp(page: str) -> str:
    start = page.index("Generated ")
    return page[start : page.index(" by testkase", start)]


def test_report_errors(cli: Runner, tmp_path: Path) -> None:
    bad = cli("report", "--format", "pdf", "--json")
    assert bad.code == 2
    assert "allowed: html, md, json" in bad.error["hint"]
    nowhere = cli("report", "-o", str(tmp_path / "missing" / "r.html"))
    assert nowhere.code == 2
    assert "cannot write" in nowhere.err


PROBE = """
import sys
from testkase_cli.cli.app import main
try:
    main({args!r})
except SystemExit:
    pass
names = ("sqlalchemy", "sqlmodel", "httpx", "defusedxml")
print("HEAVY=" + ",".join(sorted(m for m in names if m in sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args", [["import", "junit", "--help"], ["report", "--help"], ["webhook", "serve", "--help"]]
)
def test_new_commands_help_stays_light(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stderr.strip().splitlines()[-1] == "HEAVY=", done.stderr
    assert "Usage" in done.stdout


def test_report_json_is_one_document(cli: Runner) -> None:
    out = cli("report", "--json").out
    assert isinstance(json.loads(out), dict)
