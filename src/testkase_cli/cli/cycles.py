"""`testkase cycle ...`, `testkase exec`, `testkase link` / `unlink`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from testkase_cli.cli.context import AppContext, require_flag
from testkase_cli.cli.options import Description, JsonFlag, YesFlag
from testkase_cli.cli.render import show_cycle, show_cycles
from testkase_cli.cli.requirements import _title
from testkase_cli.domain.models import CycleStatus, DefectPriority, Result
from testkase_cli.errors import UsageError
from testkase_cli.output import serialize

if TYPE_CHECKING:
    from testkase_cli.services.link import LinkReport

app = typer.Typer(help="Test cycles: add, list, show, edit, delete.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="CY-n (or the cycle's name).")]


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name.")],
    description: Description = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a cycle and print its id."""
    env = AppContext.of(ctx)
    cycle = env.catalog().add_cycle(_title(name), description=description or "")
    show_cycle(env.terminal(as_json=as_json), cycle, created=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="planned, in-progress or done.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List cycles."""
    env = AppContext.of(ctx)
    cycles = env.catalog().list_cycles(
        status=CycleStatus.parse(status, what="status") if status else None
    )
    show_cycles(env.terminal(as_json=as_json), cycles)


@app.command("show")
def show(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """Show a cycle and its executions."""
    env = AppContext.of(ctx)
    cycle, executions = env.catalog().get_cycle(ref)
    show_cycle(env.terminal(as_json=as_json), cycle, executions)


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    description: Description = None,
    status: Annotated[str | None, typer.Option(help="planned, in-progress or done.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rename a cycle, or change its description or status."""
    env = AppContext.of(ctx)
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = _title(name)
    if description is not None:
        changes["description"] = description
    if status is not None:
        changes["status"] = CycleStatus.parse(status, what="status").value
    if not changes:
        raise UsageError("nothing to change", hint="pass --name, --description or --status")
    show_cycle(env.terminal(as_json=as_json), env.catalog().edit_cycle(ref, changes))


@app.command("delete")
def delete(ctx: typer.Context, ref: Ref, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
    """Delete a cycle and its executions (its id is never reused)."""
    env = AppContext.of(ctx)
    terminal = env.terminal(as_json=as_json)
    catalog = env.catalog()
    cycle, executions = catalog.get_cycle(ref)
    extra = f" and its {len(executions)} execution(s)" if executions else ""
    require_flag(terminal, yes, f"delete {cycle.id} ({cycle.name}){extra}")
    deleted = catalog.delete_cycle(ref)
    if as_json:
        terminal.data({"deleted": deleted, "executions_deleted": len(executions)})
    else:
        terminal.line(f"deleted {deleted}{extra}")


def execute(
    ctx: typer.Context,
    cycle: Annotated[str, typer.Argument(help="CY-n.")],
    case: Annotated[str, typer.Argument(help="TC-n.")],
    result: Annotated[str, typer.Option(help="passed, failed, blocked or skipped.")],
    notes: Annotated[str, typer.Option(help="Notes on this run.")] = "",
    defect: Annotated[
        str | None, typer.Option(help="Open a defect with this title, linked to the run.")
    ] = None,
    defect_priority: Annotated[
        str, typer.Option(help="Blocker, Critical, Major, Minor or Trivial.")
    ] = "Major",
    push: Annotated[bool, typer.Option(help="Push the new defect to the tracker.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Record the result of running a test case in a cycle."""
    from testkase_cli.services import execute as service

    env = AppContext.of(ctx)
    if push and defect is None:
        raise UsageError("--push needs --defect TITLE")
    report = service.record(
        env.catalog(),
        cycle,
        case,
        Result.parse(result, what="result"),
        notes,
        defect_title=_title(defect) if defect is not None else None,
        defect_priority=DefectPriority.parse(defect_priority, what="defect priority"),
    )
    terminal = env.terminal(as_json=as_json)
    pushed = None
    if push and report.defect is not None:
        from testkase_cli.cli.tracker import push_defects

        pushed = push_defects(env, terminal, [report.defect.id])
    if as_json:
        payload = serialize.execution(report.execution)
        created = pushed[0] if pushed else report.defect
        payload["defect"] = serialize.defect(created) if created is not None else None
        terminal.data(payload)
        return
    terminal.line(report.execution.id)
    if report.defect is not None:
        terminal.line(report.defect.id)


def link(
    ctx: typer.Context,
    case: Annotated[str, typer.Argument(help="TC-n.")],
    requirement: Annotated[str, typer.Argument(help="REQ-n or tracker key.")],
    as_json: JsonFlag = False,
) -> None:
    """Link a test case to a requirement (and tell the tracker, when it is synced)."""
    from testkase_cli.services import link as service

    env = AppContext.of(ctx)
    report = service.link(env.catalog(), env.settings(), case, requirement)
    _link_result(env, report, as_json=as_json, verb="linked")


def unlink(
    ctx: typer.Context,
    case: Annotated[str, typer.Argument(help="TC-n.")],
    requirement: Annotated[str, typer.Argument(help="REQ-n or tracker key.")],
    as_json: JsonFlag = False,
) -> None:
    """Remove the link between a test case and a requirement."""
    from testkase_cli.services import link as service

    env = AppContext.of(ctx)
    report = service.unlink(env.catalog(), env.settings(), case, requirement)
    _link_result(env, report, as_json=as_json, verb="unlinked")


def _link_result(env: AppContext, report: LinkReport, *, as_json: bool, verb: str) -> None:
    from testkase_cli.cli.tracker import drain_after_change

    terminal = env.terminal(as_json=as_json)
    delivered = drain_after_change(env, terminal) if report.queued else None
    if as_json:
        terminal.data(
            {
                "test_case": report.case,
                "requirement": report.requirement,
                "changed": report.changed,
                "comment": (None if not report.queued else ("posted" if delivered else "queued")),
            }
        )
        return
    if not report.changed:
        terminal.line(f"{report.case} and {report.requirement} were already {verb}")
        return
    terminal.line(f"{verb} {report.case} and {report.requirement}")
    if report.queued:
        terminal.info(
            "tracker comment posted" if delivered else "tracker comment queued for the next sync"
        )
