"""Parsing JUnit/xUnit XML (domain.junit): real pytest output, Surefire, Gradle, Jest,
nested suites, and the files that must be refused before anything is imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.services.junit_helpers import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    SAMPLES,
    TRUNCATED,
    pytest_report,
)

from testkase_cli.domain.junit import Outcome, combine, fingerprint, parse
from testkase_cli.domain.models import Result
from testkase_cli.errors import UsageError


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_real_pytest_report(tmp_path: Path, family: str) -> None:
    path = pytest_report(tmp_path, family=family)
    report = parse(path.read_bytes(), source="junit.xml")
    outcomes = {c.key: c.outcome for c in report.cases}
    assert outcomes == {
        "test_tiny_suite::test_passes": Outcome.PASSED,
        "test_tiny_suite::test_fails": Outcome.FAILURE,
        "test_tiny_suite::test_errors": Outcome.ERROR,
        "test_tiny_suite::test_skipped": Outcome.SKIPPED,
        "test_tiny_suite.TestCart::test_adds[1]": Outcome.PASSED,
        "test_tiny_suite.TestCart::test_adds[2]": Outcome.PASSED,
    }
    by_name = {c.name: c for c in report.cases}
    failed = by_name["test_fails"]
    assert failed.message.startswith("AssertionError: arithmetic is broken")
    assert "assert (2 * 2) == 5" in failed.detail
    assert "cart total computed" in failed.system_out
    assert failed.timestamp is not None and failed.time_s is not None
    assert "database unreachable" in by_name["test_errors"].message
    assert by_name["test_skipped"].message == "needs a printer"
    assert by_name["test_adds[1]"].properties == (("requirement", "REQ-1"),)
    assert by_name["test_adds[1]"].folder == "test_tiny_suite/TestCart"
    assert (by_name["test_fails"].file == "test_tiny_suite.py") == (family == "xunit1")


def test_surefire_report() -> None:
    report = parse((SAMPLES / "surefire.xml").read_bytes(), source="surefire.xml")
    assert report.suites == 1
    cases = {c.name: c for c in report.cases}
    assert set(cases) == {
        "addsItem",
        "rejectsNegativeQuantity",
        "loadsFromDatabase",
        "discountsLater",
        "retriesPayment",
    }
    failed = cases["rejectsNegativeQuantity"]
    assert failed.outcome is Outcome.FAILURE
    assert failed.message == "expected: <400> but was: <200>"
    assert failed.kind == "org.opentest4j.AssertionFailedError"
    assert "CartServiceTest.java:42" in failed.detail
    assert failed.system_out.strip() == "cart: quantity=-1 accepted"
    assert cases["loadsFromDatabase"].outcome is Outcome.ERROR
    assert cases["discountsLater"].outcome is Outcome.SKIPPED
    assert cases["discountsLater"].message == "not implemented yet"
    # A flaky failure that passed on rerun is a pass; suite <properties> are not the case's.
    assert cases["retriesPayment"].outcome is Outcome.PASSED
    assert cases["addsItem"].properties == ()
    assert cases["addsItem"].folder == "com/acme/cart/CartServiceTest"


def test_jest_report_with_two_suites() -> None:
    report = parse((SAMPLES / "jest.xml").read_bytes(), source="jest.xml")
    assert report.suites == 2
    assert [c.outcome for c in report.cases] == [
        Outcome.PASSED,
        Outcome.FAILURE,
        Outcome.SKIPPED,
        Outcome.PASSED,
    ]
    failed = report.cases[1]
    assert failed.message == "Error: expect(received).toBe(expected) // Object.is equality"
    assert "Received: 200" in failed.detail
    assert report.cases[3].system_out == "paid 12.00 EUR"
    assert report.cases[0].timestamp is not None
    assert report.cases[0].timestamp.isoformat() == "2026-05-01T10:00:00"


def test_gradle_report() -> None:
    report = parse((SAMPLES / "gradle.xml").read_bytes(), source="gradle.xml")
    assert [(c.name, c.outcome) for c in report.cases] == [
        ("parsesQuotedPhrases()", Outcome.PASSED),
        ("rejectsUnbalancedQuotes()", Outcome.FAILURE),
    ]


def test_nested_suites_namespaces_and_missing_classname() -> None:
    xml = b"""<?xml version="1.0"?>
    <testsuites xmlns="urn:example:xunit">
      <testsuite name="all">
        <testsuite name="unit.Math">
          <testcase name="adds" classname="unit.Math"/>
          <testsuite name="unit.Math.Deep"><testcase name="divides"/></testsuite>
        </testsuite>
        <testcase name="top"  classname=""/>
      </testsuite>
    </testsuites>"""
    report = parse(xml, source="nested.xml")
    assert report.suites == 3
    assert [c.key for c in report.cases] == [
        "all::top",
        "unit.Math::adds",
        "unit.Math.Deep::divides",
    ]


def test_deeply_nested_suites_do_not_overflow_the_stack() -> None:
    depth = 5000
    xml = b"<testsuites>" + b"<testsuite>" * depth + b'<testcase name="deep"/>'
    xml += b"</testsuite>" * depth + b"</testsuites>"
    report = parse(xml, source="deep.xml")
    assert [c.name for c in report.cases] == ["deep"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (BILLION_LAUGHS, "refused"),
        (EXTERNAL_ENTITY, "refused"),
        (TRUNCATED, "not well-formed"),
        (b"", "empty"),
        (b"\x00\x01garbage", "not well-formed"),
        (b"<html><body>502</body></html>", "not a JUnit report"),
        (b'<testsuite><testcase classname="a"/></testsuite>', "has no name"),
    ],
    ids=["billion-laughs", "external-entity", "truncated", "empty", "binary", "html", "no-name"],
)
def test_bad_files_are_refused_with_one_clear_line(content: bytes, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(content, source="bad.xml")
    message = caught.value.message
    assert message.startswith("bad.xml: ")
    assert words in message
    assert "\n" not in message
    assert "/etc/passwd" not in message and "lollol" not in message


def test_combine_keeps_the_worst_of_repeated_runs() -> None:
    xml = b"""<testsuites>
      <testsuite name="first"><testcase classname="a.B" name="flaky"/></testsuite>
      <testsuite name="rerun"><testcase classname="a.B" name="flaky">
        <error message="boom"/></testcase></testsuite>
      <testsuite name="third"><testcase classname="a.B" name="flaky"><skipped/></testcase>
      </testsuite>
    </testsuites>"""
    merged = combine(parse(xml, source="r.xml").cases)
    assert len(merged) == 1
    only = merged[0]
    assert only.result is Result.FAILED
    assert only.outcome is Outcome.ERROR
    assert "worst of 3 runs" in only.notes and "boom" in only.notes
    assert len(only.problems) == 1


def test_fingerprint_depends_on_content_and_key() -> None:
    assert fingerprint("aa", "x::y") == fingerprint("aa", "x::y")
    assert fingerprint("aa", "x::y") != fingerprint("ab", "x::y")
    assert fingerprint("aa", "x::y") != fingerprint("aa", "x::z")
