"""Recording an execution, and the defect it found, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from testkase_cli.domain.models import Defect, DefectPriority, Execution, NewDefect, Result

if TYPE_CHECKING:
    from testkase_cli.store.catalog import Catalog


@dataclass(frozen=True)
class ExecuteReport:
    execution: Execution
    defect: Defect | None


def defect_description(case_title: str, case_id: str, cycle_id: str, notes: str) -> str:
    lines = [f"Found while executing {case_id} ({case_title}) in {cycle_id}."]
    if notes:
        lines += ["", notes]
    return "\n".join(lines)


def record(
    catalog: Catalog,
    cycle_ref: str,
    case_ref: str,
    result: Result,
    notes: str,
    *,
    defect_title: str | None = None,
    defect_priority: DefectPriority = DefectPriority.MAJOR,
) -> ExecuteReport:
    new = None
    if defect_title is not None:
        case = catalog.get_case(case_ref)
        cycle, _ = catalog.get_cycle(cycle_ref)
        new = NewDefect(
            title=defect_title,
            description=defect_description(case.title, case.id, cycle.id, notes),
            priority=defect_priority,
        )
    execution, defect = catalog.add_execution(cycle_ref, case_ref, result, notes, defect=new)
    return ExecuteReport(execution, defect)
