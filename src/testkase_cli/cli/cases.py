"""`testkase case ...`: test cases."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from testkase_cli.cli.context import AppContext, require_flag
from testkase_cli.cli.options import Description, Folder, JsonFlag, YesFlag
from testkase_cli.cli.render import show_case, show_cases
from testkase_cli.cli.requirements import _folder, _title
from testkase_cli.domain.models import CaseStatus, Priority
from testkase_cli.errors import UsageError

app = typer.Typer(help="Test cases: add, list, show, edit, delete.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="TC-n.")]
Steps = Annotated[list[str] | None, typer.Option("--step", help="A step; repeat for more.")]


@app.command("add")
def add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Title.")],
    step: Steps = None,
    expected: Annotated[str, typer.Option(help="Expected result.")] = "",
    description: Description = None,
    priority: Annotated[str, typer.Option(help="P0..P3.")] = "P2",
    status: Annotated[str, typer.Option(help="draft, ready or deprecated.")] = "draft",
    folder: Folder = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a test case and print its id."""
    env = AppContext.of(ctx)
    case = env.catalog().add_case(
        _title(title),
        description=description or "",
        steps=[s for s in (step or []) if s.strip()],
        expected=expected,
        priority=Priority.parse(priority, what="priority"),
        status=CaseStatus.parse(status, what="status"),
        folder=_folder(folder),
    )
    show_case(env.terminal(as_json=as_json), case, created=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    folder: Folder = None,
    priority: Annotated[str | None, typer.Option(help="Only this priority.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List test cases, optionally filtered."""
    env = AppContext.of(ctx)
    cases = env.catalog().list_cases(
        status=CaseStatus.parse(status, what="status") if status else None,
        folder=folder,
        priority=Priority.parse(priority, what="priority") if priority else None,
    )
    show_cases(env.terminal(as_json=as_json), cases)


@app.command("show")
def show(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """Show one test case."""
    env = AppContext.of(ctx)
    show_case(env.terminal(as_json=as_json), env.catalog().get_case(ref))


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    step: Steps = None,
    expected: Annotated[str | None, typer.Option(help="Expected result.")] = None,
    description: Description = None,
    priority: Annotated[str | None, typer.Option(help="P0..P3.")] = None,
    status: Annotated[str | None, typer.Option(help="draft, ready or deprecated.")] = None,
    folder: Folder = None,
    as_json: JsonFlag = False,
) -> None:
    """Edit a test case (--step replaces all steps)."""
    env = AppContext.of(ctx)
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = _title(title)
    if step is not None:
        changes["steps"] = [s for s in step if s.strip()]
    if expected is not None:
        changes["expected"] = expected
    if description is not None:
        changes["description"] = description
    if priority is not None:
        changes["priority"] = Priority.parse(priority, what="priority").value
    if status is not None:
        changes["status"] = CaseStatus.parse(status, what="status").value
    if folder is not None:
        changes["folder"] = _folder(folder)
    if not changes:
        raise UsageError("nothing to change", hint="see: testkase case edit --help")
    show_case(env.terminal(as_json=as_json), env.catalog().edit_case(ref, changes))


@app.command("delete")
def delete(ctx: typer.Context, ref: Ref, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
    """Delete a test case with its links and executions (its id is never reused)."""
    env = AppContext.of(ctx)
    terminal = env.terminal(as_json=as_json)
    catalog = env.catalog()
    case = catalog.get_case(ref)
    runs = catalog.count_executions_for_case(ref)
    extra = f" and its {runs} execution(s)" if runs else ""
    require_flag(terminal, yes, f"delete {case.id} ({case.title}){extra}")
    deleted = catalog.delete_case(ref)
    if as_json:
        terminal.data({"deleted": deleted, "executions_deleted": runs})
    else:
        terminal.line(f"deleted {deleted}{extra}")
