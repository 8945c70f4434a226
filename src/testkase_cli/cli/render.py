"""How each entity is shown: JSON (SPEC shapes) or rich tables for people."""

from __future__ import annotations

from collections.abc import Iterable

from testkase_cli.domain.models import (
    Case,
    Cycle,
    Defect,
    Execution,
    Kind,
    Requirement,
    format_id,
)
from testkase_cli.output import serialize
from testkase_cli.output.terminal import Terminal


def _ids(kind: Kind, numbers: tuple[int, ...]) -> str:
    return ", ".join(format_id(kind, n) for n in numbers) or "-"


def show_requirement(terminal: Terminal, req: Requirement, *, created: bool = False) -> None:
    if terminal.json_mode:
        terminal.data(serialize.requirement(req))
        return
    if created:
        terminal.line(req.id)
        return
    ext = req.external
    terminal.fields(
        f"{req.id}  {req.title}",
        [
            ("priority", req.priority.value),
            ("status", req.status.value),
            ("folder", req.folder or "-"),
            ("source", req.source.value),
            ("tracker", f"{ext.key} ({ext.state.value}) {ext.url}" if ext else "-"),
            ("test cases", _ids(Kind.CASE, req.test_cases)),
            ("defects", _ids(Kind.DEFECT, req.defects)),
            ("attachments", ", ".join(a.name for a in req.attachments) or "-"),
            ("updated", serialize.timestamp(req.updated_at)),
            ("description", req.description or "-"),
        ],
    )


def show_requirements(terminal: Terminal, reqs: Iterable[Requirement]) -> None:
    if terminal.json_mode:
        terminal.data_list(serialize.requirement(r) for r in reqs)
        return
    terminal.table(
        "Requirements",
        ["id", "title", "priority", "status", "folder", "source", "tracker", "cases"],
        (
            [
                r.id,
                r.title,
                r.priority.value,
                r.status.value,
                r.folder,
                r.source.value,
                r.external.key if r.external else "",
                len(r.test_cases),
            ]
            for r in reqs
        ),
    )


def show_case(terminal: Terminal, case: Case, *, created: bool = False) -> None:
    if terminal.json_mode:
        terminal.data(serialize.case(case))
        return
    if created:
        terminal.line(case.id)
        return
    steps = "\n".join(f"{i}. {s}" for i, s in enumerate(case.steps, start=1)) or "-"
    terminal.fields(
        f"{case.id}  {case.title}",
        [
            ("priority", case.priority.value),
            ("status", case.status.value),
            ("folder", case.folder or "-"),
            ("requirements", _ids(Kind.REQUIREMENT, case.requirements)),
            ("steps", steps),
            ("expected", case.expected or "-"),
            ("description", case.description or "-"),
        ],
    )


def show_cases(terminal: Terminal, cases: list[Case]) -> None:
    if terminal.json_mode:
        terminal.data([serialize.case(c) for c in cases])
        return
    terminal.table(
        "Test cases",
        ["id", "title", "priority", "status", "folder", "requirements"],
        (
            [
                c.id,
                c.title,
                c.priority.value,
                c.status.value,
                c.folder,
                _ids(Kind.REQUIREMENT, c.requirements),
            ]
            for c in cases
        ),
    )


def show_cycle(
    terminal: Terminal,
    cycle: Cycle,
    executions: list[Execution] | None = None,
    *,
    created: bool = False,
) -> None:
    if terminal.json_mode:
        terminal.data(serialize.cycle(cycle, executions))
        return
    if created:
        terminal.line(cycle.id)
        return
    terminal.fields(
        f"{cycle.id}  {cycle.name}",
        [("status", cycle.status.value), ("description", cycle.description or "-")],
    )
    if executions is not None:
        terminal.table(
            "Executions",
            ["id", "test case", "result", "executed", "notes"],
            (
                [
                    e.id,
                    format_id(Kind.CASE, e.case),
                    e.result.value,
                    serialize.timestamp(e.executed_at),
                    e.notes,
                ]
                for e in executions
            ),
        )


def show_cycles(terminal: Terminal, cycles: list[Cycle]) -> None:
    if terminal.json_mode:
        terminal.data([serialize.cycle(c) for c in cycles])
        return
    terminal.table(
        "Cycles",
        ["id", "name", "status", "executions"],
        ([c.id, c.name, c.status.value, len(c.executions)] for c in cycles),
    )


def show_defect(terminal: Terminal, defect: Defect, *, created: bool = False) -> None:
    if terminal.json_mode:
        terminal.data(serialize.defect(defect))
        return
    if created:
        terminal.line(defect.id)
        return
    ext = defect.external
    terminal.fields(
        f"{defect.id}  {defect.title}",
        [
            ("priority", defect.priority.value),
            ("status", defect.status.value),
            ("test case", serialize.maybe_id(Kind.CASE, defect.case) or "-"),
            ("execution", serialize.maybe_id(Kind.EXECUTION, defect.execution) or "-"),
            ("cycle", serialize.maybe_id(Kind.CYCLE, defect.cycle) or "-"),
            ("requirements", _ids(Kind.REQUIREMENT, defect.requirements)),
            ("tracker", f"{ext.key} {ext.url}" if ext else "not pushed"),
            ("sync", defect.sync.state + (f" ({defect.sync.error})" if defect.sync.error else "")),
            ("description", defect.description or "-"),
        ],
    )
    for comment in defect.comments:
        who = comment.author or comment.origin
        terminal.line(f"  [{serialize.timestamp(comment.created_at)}] {who}: {comment.body}")


def show_defects(terminal: Terminal, defects: list[Defect]) -> None:
    if terminal.json_mode:
        terminal.data([serialize.defect(d) for d in defects])
        return
    terminal.table(
        "Defects",
        ["id", "title", "priority", "status", "test case", "tracker", "sync"],
        (
            [
                d.id,
                d.title,
                d.priority.value,
                d.status.value,
                serialize.maybe_id(Kind.CASE, d.case) or "",
                d.external.key if d.external else "",
                d.sync.state,
            ]
            for d in defects
        ),
    )
