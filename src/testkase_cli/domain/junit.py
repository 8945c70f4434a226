"""JUnit / xUnit XML reports -> test results. Pure: bytes in, dataclasses out.

Reads what pytest (`--junitxml`, xunit1 and xunit2), Maven Surefire/Failsafe, Gradle and
jest-junit write: a root `<testsuites>` or `<testsuite>`, suites nested at any depth,
`<testcase>` with `<failure>`, `<error>`, `<skipped>`, `<properties>`, `<system-out>` and
`<system-err>`. Parsing goes through defusedxml with DTDs forbidden, so entity expansion
("billion laughs") and external entities are refused before anything is expanded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from testkase_cli.domain.models import Result
from testkase_cli.errors import UsageError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Largest report accepted (50 MiB, documented in docs/junit.md)."""

MAX_TEXT = 20_000
"""Longest message, trace or captured output kept per test case (the tail is kept)."""


class Outcome(StrEnum):
    PASSED = "passed"
    FAILURE = "failure"
    ERROR = "error"
    SKIPPED = "skipped"

    @property
    def result(self) -> Result:
        if self in (Outcome.FAILURE, Outcome.ERROR):
            return Result.FAILED
        return Result.SKIPPED if self is Outcome.SKIPPED else Result.PASSED


@dataclass(frozen=True)
class JunitCase:
    """One `<testcase>` as the report states it."""

    classname: str
    name: str
    outcome: Outcome
    message: str = ""
    detail: str = ""
    kind: str = ""
    time_s: float | None = None
    system_out: str = ""
    system_err: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    timestamp: datetime | None = None
    file: str = ""
    report: str = ""

    @property
    def key(self) -> str:
        """What matches a test case across imports: `classname::name`."""
        return f"{self.classname}::{self.name}" if self.classname else self.name

    @property
    def folder(self) -> str:
        return folder_of(self.classname)


@dataclass(frozen=True)
class JunitReport:
    source: str
    suites: int
    cases: tuple[JunitCase, ...]


@dataclass(frozen=True)
class Imported:
    """The result one import records for one test case (all its `<testcase>`s merged)."""

    key: str
    classname: str
    name: str
    result: Result
    outcome: Outcome
    notes: str
    executed_at: datetime | None
    runs: tuple[JunitCase, ...]

    @property
    def problems(self) -> tuple[JunitCase, ...]:
        return tuple(r for r in self.runs if r.outcome in (Outcome.FAILURE, Outcome.ERROR))


def folder_of(classname: str) -> str:
    """`tests.web.test_login.TestForm` -> `tests/web/test_login/TestForm`."""
    return "/".join(p.strip() for p in classname.split(".") if p.strip())


def fingerprint(file_sha256: str, key: str) -> str:
    """Identity of one test case of one report file (by content), for idempotent imports."""
    return hashlib.sha256(f"{file_sha256}\0{key}".encode()).hexdigest()


# -- parsing ---------------------------------------------------------------------------


def parse(content: bytes, *, source: str) -> JunitReport:
    """Parse and validate a whole report; raise UsageError naming `source` on any problem."""
    root = _root(content, source)
    tag = _tag(root)
    if tag not in ("testsuites", "testsuite"):
        raise UsageError(
            f"{source}: not a JUnit report: the root element is <{tag}>, "
            "expected <testsuites> or <testsuite>",
            hint="pass the XML written by pytest --junitxml, Surefire, Gradle or jest-junit",
        )
    cases: list[JunitCase] = []
    suites = 0
    # Iterative walk: a hostile file may nest suites deeper than Python's recursion limit.
    stack: list[tuple[Element, str, datetime | None]] = [(root, "", None)]
    while stack:
        element, suite_name, stamp = stack.pop()
        if _tag(element) == "testsuite":
            suites += 1
            suite_name = (element.get("name") or suite_name).strip()
            stamp = _timestamp(element.get("timestamp")) or stamp
        children = list(element)
        for child in reversed(children):
            if _tag(child) == "testsuite":
                stack.append((child, suite_name, stamp))
        for child in children:
            if _tag(child) == "testcase":
                cases.append(_case(child, suite_name, stamp, source, len(cases) + 1))
    return JunitReport(source=source, suites=suites, cases=tuple(cases))


def _root(content: bytes, source: str) -> Element:
    import defusedxml
    from defusedxml import ElementTree

    if not content.strip():
        raise UsageError(f"{source}: the file is empty", hint="is the test run still writing it?")
    try:
        root: Element = ElementTree.fromstring(
            content, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden) as exc:
        raise UsageError(
            f"{source}: refused: the XML declares a DTD or entities ({type(exc).__name__}); "
            "JUnit reports never need them and they allow entity-expansion attacks",
            hint="nothing was imported; check where this file came from",
        ) from exc
    except defusedxml.DefusedXmlException as exc:
        raise UsageError(
            f"{source}: refused: the XML uses a construct not allowed here ({exc})",
            hint="nothing was imported; check where this file came from",
        ) from exc
    except ElementTree.ParseError as exc:
        raise UsageError(
            f"{source}: not well-formed XML ({exc})",
            hint="nothing was imported; a truncated file usually means the run was cut short",
        ) from exc
    return root


def _tag(element: Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _case(
    element: Element, suite: str, stamp: datetime | None, source: str, index: int
) -> JunitCase:
    name = " ".join((element.get("name") or "").split())
    if not name:
        raise UsageError(
            f"{source}: <testcase> number {index} has no name",
            hint="nothing was imported; every <testcase> needs a name attribute",
        )
    classname = (element.get("classname") or element.get("class") or suite).strip()
    outcome = Outcome.PASSED
    message = detail = kind = ""
    system_out = system_err = ""
    properties: list[tuple[str, str]] = []
    for child in element:
        tag = _tag(child)
        if tag in ("failure", "error") and outcome in (Outcome.PASSED, Outcome.SKIPPED):
            outcome = Outcome.FAILURE if tag == "failure" else Outcome.ERROR
            kind = (child.get("type") or "").strip()
            detail = _text(child)
            message = (child.get("message") or "").strip() or _first_line(detail)
        elif tag == "skipped" and outcome is Outcome.PASSED:
            outcome = Outcome.SKIPPED
            message = (child.get("message") or "").strip() or _first_line(_text(child))
        elif tag == "system-out":
            system_out += _text(child)
        elif tag == "system-err":
            system_err += _text(child)
        elif tag == "properties":
            for prop in child:
                if _tag(prop) == "property" and prop.get("name"):
                    value = prop.get("value")
                    properties.append((str(prop.get("name")), value or _text(prop)))
    return JunitCase(
        classname=classname,
        name=name,
        outcome=outcome,
        message=_tail(message, 2_000),
        detail=_tail(detail, MAX_TEXT),
        kind=kind,
        time_s=_seconds(element.get("time")),
        system_out=_tail(system_out, MAX_TEXT),
        system_err=_tail(system_err, MAX_TEXT),
        properties=tuple(properties),
        timestamp=_timestamp(element.get("timestamp")) or stamp,
        file=(element.get("file") or "").strip(),
        report=source,
    )


def _text(element: Element) -> str:
    return "".join(element.itertext()).strip("\n")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def _seconds(raw: str | None) -> float | None:
    try:
        return float((raw or "").replace(",", "")) if raw else None
    except ValueError:
        return None


def _timestamp(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


# -- merging ---------------------------------------------------------------------------

_RANK = {Outcome.SKIPPED: 0, Outcome.PASSED: 1, Outcome.FAILURE: 2, Outcome.ERROR: 3}


def combine(cases: Sequence[JunitCase]) -> list[Imported]:
    """One result per test case key, in first-seen order; the worst outcome wins
    (error > failure > passed > skipped), so a failing rerun is never hidden."""
    groups: dict[str, list[JunitCase]] = {}
    for case in cases:
        groups.setdefault(case.key, []).append(case)
    merged = []
    for key, runs in groups.items():
        worst = max(runs, key=lambda r: _RANK[r.outcome])
        stamps = [r.timestamp for r in runs if r.timestamp is not None]
        merged.append(
            Imported(
                key=key,
                classname=worst.classname,
                name=worst.name,
                result=worst.outcome.result,
                outcome=worst.outcome,
                notes=notes(worst, len(runs)),
                executed_at=max(stamps, key=_sortable) if stamps else None,
                runs=tuple(runs),
            )
        )
    return merged


def _sortable(value: datetime) -> float:
    return value.timestamp()


def notes(case: JunitCase, runs: int = 1) -> str:
    """The execution's notes: where it came from and, when it did not pass, why."""
    where = f"JUnit import ({case.report or 'report'}"
    where += f", {case.time_s:.3f} s)" if case.time_s is not None else ")"
    if runs > 1:
        where += f", worst of {runs} runs"
    label = {
        Outcome.PASSED: "",
        Outcome.FAILURE: "failure",
        Outcome.ERROR: "error (the test could not run to its assertions)",
        Outcome.SKIPPED: "skipped",
    }[case.outcome]
    if not label:
        return where
    reason = _first_line(case.message) or case.kind
    return f"{where}: {label}" + (f": {reason[:500]}" if reason else "")
