"""The traceability report as Markdown (to paste into a wiki) and as JSON (for scripts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from testkase_cli.domain.models import Defect, ExternalRef
from testkase_cli.domain.traceability import (
    VERDICT_ORDER,
    CaseTrace,
    RequirementTrace,
    Traceability,
    Verdict,
)
from testkase_cli.output.report_html import MAX_CYCLE_COLUMNS
from testkase_cli.output.serialize import external, timestamp

# Characters that start inline Markdown (emphasis, code, links, tables, HTML, math).
_MD_SPECIAL = set("\\`*_[]{}()#+!|~$")
_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def md(value: object) -> str:
    """Text that renders as itself in a Markdown table cell, never as markup or HTML."""
    out = []
    for char in " ".join(str(value).split()):
        if char in _HTML:
            out.append(_HTML[char])
        elif char in _MD_SPECIAL:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def md_link(url: str, text: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return md(text)
    return f"[{md(text)}](<{quote(url.strip(), safe=':/?#@!$&*+,;=%-._~')}>)"


def _ref(ref: ExternalRef | None) -> str:
    if ref is None:
        return ""
    return " (" + md_link(ref.url, ref.key or ref.id) + ")"


def _defects(defects: tuple[Defect, ...]) -> str:
    return (
        ", ".join(
            f"{md(d.id)} {md(d.title)} \\[{md(d.status.value)}\\]{_ref(d.external)}"
            for d in defects
        )
        or "-"
    )


def markdown(trace: Traceability) -> str:
    cov = trace.coverage
    shown = list(trace.cycles[-MAX_CYCLE_COLUMNS:])
    lines = [
        f"# Traceability report: {md(trace.project)}",
        "",
        f"Generated {timestamp(trace.generated_at)} by testkase.",
        "",
        "## Coverage",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Requirements | {cov.requirements} |",
        f"| Covered by a test case | {cov.covered} ({cov.covered_pct:g}%) |",
        f"| Without a test case | {cov.verdicts[Verdict.UNCOVERED]} |",
        f"| Failing | {cov.verdicts[Verdict.FAILING]} |",
        f"| Passing | {cov.verdicts[Verdict.PASSING]} ({cov.passing_pct:g}%) |",
        f"| Blocked | {cov.verdicts[Verdict.BLOCKED]} |",
        f"| Not run | {cov.verdicts[Verdict.NOT_RUN]} |",
        f"| Test cases | {cov.cases} |",
        f"| Test cases never run | {cov.cases_never_run} |",
        f"| Test cases without a requirement | {cov.cases_without_requirement} |",
        f"| Open defects | {cov.open_defects} |",
        f"| Deprecated requirements (not counted) | {cov.deprecated} |",
        "",
        "## Traceability matrix",
        "",
    ]
    head = ["Requirement", "Verdict", "Test case", "Latest"]
    head += [f"{md(c.id)} {md(c.name)}" for c in shown]
    head.append("Defects")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for row in trace.requirements:
        lines += _rows(row, [c.number for c in shown])
    if not trace.requirements:
        lines.append("| _no requirements yet_ |" + " |" * (len(head) - 1))
    return "\n".join(lines) + "\n"


def _rows(row: RequirementTrace, numbers: list[int]) -> list[str]:
    req = row.requirement
    label = f"{md(req.id)} {md(req.title)}{_ref(req.external)}"
    if not row.cases:
        blanks = " | ".join(["-"] * (2 + len(numbers)))
        return [f"| {label} | {row.verdict.label} | {blanks} | {_defects(row.defects)} |"]
    lines = []
    for index, case in enumerate(row.cases):
        first = index == 0
        cells = [
            label if first else "",
            row.verdict.label if first else "",
            f"{md(case.case.id)} {md(case.case.title)}",
            case.result.value if case.result else "not run",
        ]
        cells += [case.results[n].result.value if n in case.results else "-" for n in numbers]
        cells.append(_defects(row.defects) if first else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# -- JSON ------------------------------------------------------------------------------


def _defect(d: Defect) -> dict[str, Any]:
    return {
        "id": d.id,
        "title": d.title,
        "status": d.status.value,
        "priority": d.priority.value,
        "external": external(d.external),
    }


def _case(trace: CaseTrace, cycle_ids: dict[int, str]) -> dict[str, Any]:
    latest = trace.latest
    return {
        "id": trace.case.id,
        "title": trace.case.title,
        "latest": None
        if latest is None
        else {
            "result": latest.result.value,
            "cycle": cycle_ids.get(latest.cycle, f"CY-{latest.cycle}"),
            "execution": latest.id,
            "executed_at": timestamp(latest.executed_at),
        },
        "results": {
            cycle_ids.get(n, f"CY-{n}"): run.result.value for n, run in trace.results.items()
        },
        "defects": [d.id for d in trace.defects],
    }


def as_json(trace: Traceability) -> dict[str, Any]:
    cov = trace.coverage
    cycle_ids = {c.number: c.id for c in trace.cycles}
    return {
        "project": trace.project,
        "generated_at": timestamp(trace.generated_at),
        "coverage": {
            "requirements": cov.requirements,
            "covered": cov.covered,
            "covered_pct": cov.covered_pct,
            "verdicts": {v.value: cov.verdicts[v] for v in VERDICT_ORDER},
            "test_cases": cov.cases,
            "test_cases_never_run": cov.cases_never_run,
            "test_cases_without_requirement": cov.cases_without_requirement,
            "case_results": cov.case_results,
            "open_defects": cov.open_defects,
            "deprecated_requirements": cov.deprecated,
        },
        "cycles": [{"id": c.id, "name": c.name, "status": c.status.value} for c in trace.cycles],
        "requirements": [
            {
                "id": row.requirement.id,
                "title": row.requirement.title,
                "priority": row.requirement.priority.value,
                "status": row.requirement.status.value,
                "external": external(row.requirement.external),
                "verdict": row.verdict.value,
                "test_cases": [_case(c, cycle_ids) for c in row.cases],
                "defects": [_defect(d) for d in row.defects],
            }
            for row in trace.requirements
        ],
        "unlinked_test_cases": [_case(c, cycle_ids) for c in trace.unlinked_cases],
    }
