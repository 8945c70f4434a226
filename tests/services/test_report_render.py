"""The traceability matrix (domain.traceability) and its HTML, Markdown and JSON renderings:
verdicts, coverage figures, and hostile values from the tracker that must stay text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from testkase_cli.domain.models import (
    Case,
    CaseStatus,
    Cycle,
    CycleStatus,
    Defect,
    DefectPriority,
    DefectStatus,
    DefectSync,
    Execution,
    ExternalRef,
    Priority,
    Requirement,
    RequirementStatus,
    Result,
    Source,
)
from testkase_cli.domain.traceability import Traceability, Verdict, build
from testkase_cli.output import report_html, report_text

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'


def _req(
    number: int,
    title: str,
    cases: tuple[int, ...],
    url: str = "",
    status: RequirementStatus = RequirementStatus.ACTIVE,
) -> Requirement:
    ext = ExternalRef("jira", f"PROJ-{number}", str(100 + number), url) if url else None
    return Requirement(
        number=number,
        title=title,
        description="",
        priority=Priority.P1,
        status=status,
        folder="",
        source=Source.JIRA if ext else Source.LOCAL,
        external=ext,
        test_cases=cases,
        defects=(),
        attachments=(),
        created_at=T0,
        updated_at=T0,
        synced_at=None,
    )


def _case(number: int, title: str, reqs: tuple[int, ...]) -> Case:
    return Case(number, title, "", (), "", Priority.P2, CaseStatus.READY, "a/b", reqs, T0, T0)


def _cycle(number: int, name: str) -> Cycle:
    return Cycle(number, name, "", CycleStatus.IN_PROGRESS, T0, T0)


def _run(number: int, cycle: int, case: int, result: Result, minutes: int) -> Execution:
    return Execution(number, cycle, case, result, "", T0 + timedelta(minutes=minutes))


def _defect(number: int, case: int, status: DefectStatus, url: str) -> Defect:
    return Defect(
        number=number,
        title=f"Broken {IMG}",
        description="",
        priority=DefectPriority.MAJOR,
        status=status,
        case=case,
        execution=None,
        cycle=1,
        requirements=(),
        external=ExternalRef("jira", f"PROJ-{90 + number}", str(900 + number), url),
        sync=DefectSync("synced", None, None),
        comments=(),
        created_at=T0,
        updated_at=T0,
    )


def sample() -> Traceability:
    return build(
        "web <b>shop</b>",
        T0,
        requirements=[
            _req(1, SCRIPT, (1, 2), url="https://acme.atlassian.net/browse/PROJ-1"),
            _req(2, f"Totals {IMG} | pipes", (3,), url="javascript:alert(3)"),
            _req(3, "Nobody tests me", ()),
            _req(4, "Never run", (4,)),
            _req(5, "Gone from the tracker", (), status=RequirementStatus.DEPRECATED),
        ],
        cases=[
            _case(1, "Login works", (1,)),
            _case(2, "Logout works", (1,)),
            _case(3, "Totals add up", (2,)),
            _case(4, "Exports CSV", (4,)),
            _case(5, "Orphan", ()),
        ],
        cycles=[_cycle(1, "Nightly"), _cycle(2, "Release"), _cycle(3, "Empty")],
        executions=[
            _run(1, 1, 1, Result.FAILED, 0),
            _run(2, 2, 1, Result.PASSED, 10),
            _run(3, 1, 2, Result.PASSED, 1),
            _run(4, 1, 3, Result.PASSED, 2),
            _run(5, 2, 3, Result.FAILED, 12),
            _run(6, 2, 3, Result.PASSED, 5),
            _run(7, 1, 5, Result.SKIPPED, 3),
        ],
        defects=[
            _defect(1, 3, DefectStatus.OPEN, "https://acme.atlassian.net/browse/PROJ-91"),
            _defect(2, 1, DefectStatus.CLOSED, "data:text/html,<script>alert(4)</script>"),
        ],
    )


def test_verdicts_and_coverage_use_the_latest_result_per_cycle() -> None:
    trace = sample()
    verdicts = {r.requirement.id: r.verdict for r in trace.requirements}
    # REQ-1: TC-1 failed in Nightly but passed later in Release; TC-2 passed.
    # REQ-2: TC-3's latest run in Release is the Failed one (12 min), not the earlier pass.
    assert verdicts == {
        "REQ-1": Verdict.PASSING,
        "REQ-2": Verdict.FAILING,
        "REQ-3": Verdict.UNCOVERED,
        "REQ-4": Verdict.NOT_RUN,
        "REQ-5": Verdict.UNCOVERED,
    }
    tc3 = trace.requirements[1].cases[0]
    assert {n: e.result for n, e in tc3.results.items()} == {1: Result.PASSED, 2: Result.FAILED}
    assert [c.id for c in trace.cycles] == ["CY-1", "CY-2"]
    cov = trace.coverage
    assert (cov.requirements, cov.covered, cov.covered_pct) == (4, 3, 75.0)
    assert cov.cases_never_run == 1
    assert cov.cases_without_requirement == 1
    assert cov.open_defects == 1
    assert cov.deprecated == 1
    assert cov.case_results == {
        "Passed": 2,
        "Failed": 1,
        "Blocked": 0,
        "Skipped": 1,
        "not_run": 1,
    }
    assert [d.id for d in trace.requirements[0].defects] == ["DEF-2"]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_accessible_and_escapes_everything() -> None:
    page = report_html.render(sample())
    parser = _Page()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    attrs = dict(parser.tags[0][1])
    assert tags[0] == "html" and attrs["lang"] == "en"
    assert "script" not in tags and "img" not in tags and "iframe" not in tags
    assert not any(k.startswith("on") for _, a in parser.tags for k in a)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    text = "".join(parser.text)
    assert SCRIPT in text and IMG in text and "web <b>shop</b>" in text
    hrefs = [a.get("href") or "" for t, a in parser.tags if t == "a"]
    assert "https://acme.atlassian.net/browse/PROJ-1" in hrefs
    assert all(h.startswith("https://") for h in hrefs)
    assert tags.count("caption") >= 2
    scopes = {a.get("scope") for t, a in parser.tags if t == "th"}
    assert {"col", "rowgroup", "row"} <= scopes
    svg = next(a for t, a in parser.tags if t == "svg")
    assert svg["role"] == "img" and svg["aria-labelledby"]
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'onerror="' not in page and "onerror=&quot;alert(2)&quot;" in page
    assert "@media print" in page and "Content-Security-Policy" in page


def test_markdown_cells_stay_text() -> None:
    text = report_text.markdown(sample())
    row = next(line for line in text.splitlines() if line.startswith("| REQ-2"))
    assert '&lt;img src=x onerror="alert\\(2\\)"&gt;' in row
    assert "\\| pipes" in row
    assert "javascript:" not in text and "data:text" not in text
    assert "[PROJ-1](<https://acme.atlassian.net/browse/PROJ-1>)" in text
    header = next(line for line in text.splitlines() if line.startswith("| Requirement |"))
    assert header.count("|") == 8  # 7 columns: 4 fixed, 2 cycles, defects


def test_json_shape() -> None:
    data = report_text.as_json(sample())
    assert set(data) == {
        "project",
        "generated_at",
        "coverage",
        "cycles",
        "requirements",
        "unlinked_test_cases",
    }
    assert data["coverage"]["verdicts"] == {
        "passing": 1,
        "failing": 1,
        "blocked": 0,
        "not_run": 1,
        "uncovered": 1,
    }
    req = data["requirements"][1]
    assert req["title"] == f"Totals {IMG} | pipes"
    assert req["verdict"] == "failing"
    case = req["test_cases"][0]
    assert case["latest"]["result"] == "Failed" and case["latest"]["cycle"] == "CY-2"
    assert case["results"] == {"CY-1": "Passed", "CY-2": "Failed"}
    assert req["defects"][0]["external"]["key"] == "PROJ-91"
    assert data["unlinked_test_cases"][0]["id"] == "TC-5"
