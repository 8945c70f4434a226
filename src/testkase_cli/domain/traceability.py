"""The traceability matrix: requirement -> test cases -> latest result per cycle -> defects.

Pure: built from domain objects, rendered by output/report_*.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from testkase_cli.domain.models import (
    Case,
    Cycle,
    Defect,
    DefectStatus,
    Execution,
    Requirement,
    RequirementStatus,
    Result,
)


class Verdict(StrEnum):
    """Where a requirement stands, from the latest result of each of its test cases."""

    PASSING = "passing"
    FAILING = "failing"
    BLOCKED = "blocked"
    NOT_RUN = "not_run"
    UNCOVERED = "uncovered"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


VERDICT_ORDER = (
    Verdict.PASSING,
    Verdict.FAILING,
    Verdict.BLOCKED,
    Verdict.NOT_RUN,
    Verdict.UNCOVERED,
)
OPEN_STATUSES = (DefectStatus.OPEN, DefectStatus.IN_PROGRESS)


@dataclass(frozen=True)
class CaseTrace:
    case: Case
    results: dict[int, Execution]
    """Cycle number -> the latest execution of this case in that cycle."""
    latest: Execution | None
    defects: tuple[Defect, ...]

    @property
    def result(self) -> Result | None:
        return None if self.latest is None else self.latest.result


@dataclass(frozen=True)
class RequirementTrace:
    requirement: Requirement
    cases: tuple[CaseTrace, ...]
    defects: tuple[Defect, ...]
    verdict: Verdict


@dataclass(frozen=True)
class Coverage:
    requirements: int
    verdicts: dict[Verdict, int]
    cases: int
    case_results: dict[str, int]
    """Latest result of every test case: Passed, Failed, Blocked, Skipped, and `not_run`."""
    cases_without_requirement: int
    open_defects: int
    deprecated: int = 0
    """Deprecated requirements: in the matrix, left out of the figures above."""

    @property
    def covered(self) -> int:
        return self.requirements - self.verdicts[Verdict.UNCOVERED]

    @property
    def cases_never_run(self) -> int:
        return self.case_results["not_run"]

    @property
    def covered_pct(self) -> float:
        return round(100 * self.covered / self.requirements, 1) if self.requirements else 0.0

    @property
    def passing_pct(self) -> float:
        passing = self.verdicts[Verdict.PASSING]
        return round(100 * passing / self.requirements, 1) if self.requirements else 0.0


@dataclass(frozen=True)
class Traceability:
    project: str
    generated_at: datetime
    cycles: tuple[Cycle, ...]
    """Cycles with at least one execution, oldest first."""
    requirements: tuple[RequirementTrace, ...]
    unlinked_cases: tuple[CaseTrace, ...]
    coverage: Coverage


def build(
    project: str,
    generated_at: datetime,
    *,
    requirements: Sequence[Requirement],
    cases: Sequence[Case],
    cycles: Sequence[Cycle],
    executions: Sequence[Execution],
    defects: Sequence[Defect],
) -> Traceability:
    by_case: dict[int, list[Execution]] = {}
    for execution in sorted(executions, key=_when):
        by_case.setdefault(execution.case, []).append(execution)
    case_defects: dict[int, list[Defect]] = {}
    for defect in defects:
        if defect.case is not None:
            case_defects.setdefault(defect.case, []).append(defect)
    traces = {c.number: _case_trace(c, by_case.get(c.number, []), case_defects) for c in cases}
    defect_by_number = {d.number: d for d in defects}
    rows = []
    for req in requirements:
        linked = tuple(traces[n] for n in req.test_cases if n in traces)
        numbers = set(req.defects) | {d.number for t in linked for d in t.defects}
        related = tuple(defect_by_number[n] for n in sorted(numbers) if n in defect_by_number)
        rows.append(RequirementTrace(req, linked, related, verdict(linked)))
    run_cycles = {e.cycle for e in executions}
    shown = tuple(c for c in sorted(cycles, key=lambda c: c.number) if c.number in run_cycles)
    unlinked = tuple(t for t in traces.values() if not t.case.requirements)
    return Traceability(
        project=project,
        generated_at=generated_at,
        cycles=shown,
        requirements=tuple(rows),
        unlinked_cases=unlinked,
        coverage=_coverage(rows, list(traces.values()), unlinked, defects),
    )


def _when(execution: Execution) -> tuple[datetime, int]:
    return execution.executed_at, execution.number


def _case_trace(
    case: Case, runs: list[Execution], case_defects: dict[int, list[Defect]]
) -> CaseTrace:
    results = {run.cycle: run for run in runs}  # sorted oldest first: the last one wins
    return CaseTrace(
        case=case,
        results=results,
        latest=runs[-1] if runs else None,
        defects=tuple(case_defects.get(case.number, [])),
    )


def verdict(cases: Sequence[CaseTrace]) -> Verdict:
    if not cases:
        return Verdict.UNCOVERED
    results = [c.result for c in cases]
    if Result.FAILED in results:
        return Verdict.FAILING
    if Result.BLOCKED in results:
        return Verdict.BLOCKED
    if all(r is Result.PASSED for r in results):
        return Verdict.PASSING
    return Verdict.NOT_RUN


def _coverage(
    rows: Sequence[RequirementTrace],
    cases: Sequence[CaseTrace],
    unlinked: Sequence[CaseTrace],
    defects: Sequence[Defect],
) -> Coverage:
    verdicts = dict.fromkeys(VERDICT_ORDER, 0)
    current = [r for r in rows if r.requirement.status is not RequirementStatus.DEPRECATED]
    for row in current:
        verdicts[row.verdict] += 1
    results = {r.value: 0 for r in Result} | {"not_run": 0}
    for trace in cases:
        results[trace.result.value if trace.result else "not_run"] += 1
    return Coverage(
        requirements=len(current),
        verdicts=verdicts,
        cases=len(cases),
        case_results=results,
        cases_without_requirement=len(unlinked),
        open_defects=sum(1 for d in defects if d.status in OPEN_STATUSES),
        deprecated=len(rows) - len(current),
    )
