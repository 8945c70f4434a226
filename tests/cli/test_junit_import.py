"""`testkase import junit` through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Runner
from tests.services.junit_helpers import BILLION_LAUGHS, SAMPLES, TRUNCATED, shared_pytest_report

from testkase_cli.domain.junit import MAX_FILE_BYTES


@pytest.fixture
def pytest_xml() -> Path:
    return shared_pytest_report()


def _counts(cli: Runner) -> tuple[int, int, int]:
    cases = cli("case", "list", "--json").json
    executions = sum(len(c["executions"]) for c in cli("cycle", "list", "--json").json)
    defects = cli("defect", "list", "--json").json
    return len(cases), executions, len(defects)


def test_import_is_recorded_once_however_often_it_runs(cli: Runner, pytest_xml: Path) -> None:
    first = cli("import", "junit", str(pytest_xml), "--cycle", "Nightly", "--defects", "--json")
    assert first.code == 0, first.err
    data = first.json
    assert set(data) >= {"cycle", "files", "cases", "executions", "defects", "pushed"}
    assert data["cycle"] == "CY-1"
    assert data["files"][0]["tests"] == 6 and len(data["files"][0]["sha256"]) == 64
    assert data["cases"] == {"matched": 0, "created": 6}
    assert data["executions"] == {"passed": 3, "failed": 2, "skipped": 1}
    assert data["defects"] == ["DEF-1", "DEF-2"]
    assert data["pushed"] == []
    assert _counts(cli) == (6, 6, 2)
    again = cli("import", "junit", str(pytest_xml), "--cycle", "Nightly", "--defects", "--json")
    assert again.code == 0, again.err
    assert again.json["cases"] == {"matched": 6, "created": 0}
    assert again.json["executions"] == {"passed": 0, "failed": 0, "skipped": 0}
    assert again.json["already_imported"] == 6
    assert again.json["defects"] == []
    assert _counts(cli) == (6, 6, 2)
    cycle = cli("cycle", "show", "Nightly", "--json").json
    assert cycle["status"] == "In Progress"
    results = {r["test_case"]: r for r in cycle["results"]}
    errored = results["TC-3"]
    assert errored["result"] == "Failed"
    assert "error" in errored["notes"] and "database unreachable" in errored["notes"]
    case = cli("case", "show", "TC-6", "--json").json
    assert case["title"] == "test_adds[2]"
    assert case["folder"] == "test_tiny_suite/TestCart"
    assert cli("cycle", "delete", "Nightly", "--yes").code == 0  # forgets its fingerprints
    fresh = cli("import", "junit", str(pytest_xml), "--cycle", "Nightly", "--json").json
    assert fresh["cycle"] == "CY-2"
    assert fresh["executions"] == {"passed": 3, "failed": 2, "skipped": 1}


def test_a_new_run_matches_cases_and_opens_linked_defects(
    cli: Runner, pytest_xml: Path, tmp_path: Path
) -> None:
    assert cli("import", "junit", str(pytest_xml), "--cycle", "Nightly").code == 0
    assert cli("defect", "list", "--json").json == []
    cli("req", "add", "Totals are right")
    assert cli("link", "TC-2", "REQ-1").code == 0
    rerun = tmp_path / "rerun.xml"
    rerun.write_bytes(pytest_xml.read_bytes() + b"<!-- the next night -->\n")
    data = cli("import", "junit", str(rerun), "--cycle", "Nightly", "--defects", "--json").json
    assert data["cases"] == {"matched": 6, "created": 0}
    assert data["executions"]["failed"] == 2
    defect = cli("defect", "show", data["defects"][0], "--json").json
    assert defect["title"].startswith("test_fails failed: AssertionError: arithmetic is broken")
    assert defect["test_case"] == "TC-2" and defect["cycle"] == "CY-1"
    assert defect["execution"] == "EX-8"
    assert defect["requirements"] == ["REQ-1"]
    assert "assert (2 * 2) == 5" in defect["description"]
    assert "cart total computed" in defect["description"]
    other = cli("defect", "show", data["defects"][1], "--json").json
    assert other["title"].startswith("test_errors errored")
    assert other["requirements"] == []
    assert cli("req", "show", "REQ-1", "--json").json["defects"] == [defect["id"]]


def test_several_report_formats_in_one_import(cli: Runner) -> None:
    files = [str(SAMPLES / name) for name in ("surefire.xml", "jest.xml", "gradle.xml")]
    result = cli("import", "junit", *files, "--cycle", "CI 812", "--json")
    assert result.code == 0, result.err
    data = result.json
    assert [f["tests"] for f in data["files"]] == [5, 4, 2]
    assert data["cases"]["created"] == 11
    assert data["executions"] == {"passed": 5, "failed": 4, "skipped": 2}
    human = cli("import", "junit", *files, "--cycle", "CI 812")
    assert human.code == 0
    assert "11 matched, 0 created" in human.out
    assert "0 passed, 0 failed, 0 skipped" in human.out


def test_a_large_report_lands_in_bulk_with_consecutive_ids(cli: Runner, tmp_path: Path) -> None:
    cases = "".join(
        f'<testcase classname="pkg.mod{i % 7}" name="test_{i}">'
        + ('<failure message="boom"/>' if i % 100 == 0 else "")
        + "</testcase>"
        for i in range(1500)
    )
    big = tmp_path / "big.xml"
    big.write_text(f"<testsuite>{cases}</testsuite>")
    cli("cycle", "add", "Warm-up")
    data = cli("import", "junit", str(big), "--cycle", "Big", "--defects", "--json").json
    assert data["cases"]["created"] == 1500
    assert data["executions"] == {"passed": 1485, "failed": 15, "skipped": 0}
    assert data["defects"] == [f"DEF-{n}" for n in range(1, 16)]
    last = cli("defect", "show", "DEF-15", "--json").json
    assert (last["test_case"], last["execution"], last["cycle"]) == ("TC-1401", "EX-1401", "CY-2")
    assert cli("case", "add", "By hand").out.strip() == "TC-1501"


@pytest.mark.parametrize(
    "bad",
    [BILLION_LAUGHS, TRUNCATED, b"<html>Bad gateway</html>"],
    ids=["billion-laughs", "truncated", "html"],
)
def test_one_bad_file_imports_nothing(
    cli: Runner, pytest_xml: Path, tmp_path: Path, bad: bytes
) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(bad)
    result = cli("import", "junit", str(pytest_xml), str(broken), "--cycle", "N", "--json")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    error = json.loads(lines[0])["error"]
    assert error["message"].startswith(f"{broken}: ")
    assert cli("case", "list", "--json").json == []
    assert cli("cycle", "list", "--json").json == []


def test_file_over_the_size_limit_is_refused_unread(cli: Runner, tmp_path: Path) -> None:
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    result = cli("import", "junit", str(huge), "--cycle", "N")
    assert result.code == 2
    assert "over the 50 MiB limit" in result.err
    missing = cli("import", "junit", str(tmp_path / "nope.xml"), "--cycle", "N")
    assert missing.code == 2 and "cannot read" in missing.err


def test_push_needs_defects_and_a_connection(cli: Runner, pytest_xml: Path) -> None:
    no_defects = cli("import", "junit", str(pytest_xml), "--cycle", "N", "--push")
    assert no_defects.code == 2
    unconnected = cli(
        "import", "junit", str(pytest_xml), "--cycle", "N", "--defects", "--push", "--json"
    )
    assert unconnected.code == 6
    assert cli("case", "list", "--json").json == []


def test_a_store_from_before_junit_imports_migrates(
    isolated_env: Path,
    pytest_xml: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sqlalchemy import inspect
    from tests.cli.conftest import Run, run_in_process

    from testkase_cli.store import engine as engines
    from testkase_cli.store import migrations

    db = isolated_env / "old.db"
    old = engines.create(str(db))
    with pytest.MonkeyPatch.context() as before_junit:
        before_junit.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        before_junit.setattr(migrations, "SCHEMA_VERSION", 1)
        migrations.migrate(old)
    assert not inspect(old).has_table("tk_junit_result")
    old.dispose()
    monkeypatch.setenv("TESTKASE_DB", str(db))

    def run(*args: str) -> Run:
        return run_in_process(capsys, *args)

    assert run("init", "--name", "legacy").code == 0
    assert run("cycle", "add", "Nightly").code == 0
    assert run("import", "junit", str(pytest_xml), "--cycle", "Nightly").code == 0
    migrated = engines.create(str(db))
    with migrated.connect() as conn:
        assert migrations.current_version(conn) == migrations.SCHEMA_VERSION
        rows = conn.exec_driver_sql("SELECT count(*) FROM tk_junit_result").scalar()
        cycles = conn.exec_driver_sql("SELECT count(*) FROM tk_cycle").scalar()
    migrated.dispose()
    assert rows == 6
    assert cycles == 1
