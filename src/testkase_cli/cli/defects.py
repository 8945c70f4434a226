"""`testkase defect ...`: defects."""

from __future__ import annotations

from typing import Annotated

import typer

from testkase_cli.cli.context import AppContext, require_flag
from testkase_cli.cli.options import Description, JsonFlag, YesFlag
from testkase_cli.cli.render import show_defect, show_defects
from testkase_cli.cli.requirements import _title
from testkase_cli.domain.models import DefectPriority, DefectStatus, NewDefect
from testkase_cli.errors import UsageError

app = typer.Typer(help="Defects: add, list, show, edit, comment, delete.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="DEF-n.")]
PriorityHelp = "Blocker, Critical, Major, Minor or Trivial."


@app.command("add")
def add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Title.")],
    priority: Annotated[str, typer.Option(help=PriorityHelp)] = "Major",
    description: Description = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a defect (status Open) and print its id."""
    env = AppContext.of(ctx)
    defect = env.catalog().add_defect(
        NewDefect(
            title=_title(title),
            description=description or "",
            priority=DefectPriority.parse(priority, what="priority"),
        )
    )
    show_defect(env.terminal(as_json=as_json), defect, created=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    priority: Annotated[str | None, typer.Option(help="Only this priority.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List defects, optionally filtered."""
    env = AppContext.of(ctx)
    defects = env.catalog().list_defects(
        status=DefectStatus.parse(status, what="status") if status else None,
        priority=DefectPriority.parse(priority, what="priority") if priority else None,
    )
    show_defects(env.terminal(as_json=as_json), defects)


@app.command("show")
def show(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """Show a defect with its comments."""
    env = AppContext.of(ctx)
    show_defect(env.terminal(as_json=as_json), env.catalog().get_defect(ref))


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    status: Annotated[
        str | None, typer.Option(help="open, in-progress, closed or achieved.")
    ] = None,
    priority: Annotated[str | None, typer.Option(help=PriorityHelp)] = None,
    description: Description = None,
    as_json: JsonFlag = False,
) -> None:
    """Edit a defect; a pushed one is updated in the tracker by the next sync."""
    from testkase_cli.services import defects as service

    env = AppContext.of(ctx)
    changes: dict[str, str] = {}
    if title is not None:
        changes["title"] = _title(title)
    if status is not None:
        changes["status"] = DefectStatus.parse(status, what="status").value
    if priority is not None:
        changes["priority"] = DefectPriority.parse(priority, what="priority").value
    if description is not None:
        changes["description"] = description
    if not changes:
        raise UsageError(
            "nothing to change", hint="pass --title, --status, --priority or --description"
        )
    defect = service.edit(env.catalog(), env.settings(), ref, changes)
    show_defect(env.terminal(as_json=as_json), defect)


@app.command("comment")
def comment(
    ctx: typer.Context,
    ref: Ref,
    text: Annotated[str, typer.Argument(help="The comment (Markdown).")],
    as_json: JsonFlag = False,
) -> None:
    """Comment on a defect; a pushed one gets the comment in the tracker too."""
    from testkase_cli.services import defects as service

    env = AppContext.of(ctx)
    if not text.strip():
        raise UsageError("the comment is empty")
    defect = service.comment(env.catalog(), env.settings(), ref, text)
    terminal = env.terminal(as_json=as_json)
    if as_json:
        show_defect(terminal, defect)
    else:
        terminal.line(f"commented on {defect.id}")


@app.command("delete")
def delete(ctx: typer.Context, ref: Ref, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
    """Delete a defect locally (a pushed issue stays in the tracker)."""
    env = AppContext.of(ctx)
    terminal = env.terminal(as_json=as_json)
    catalog = env.catalog()
    defect = catalog.get_defect(ref)
    require_flag(terminal, yes, f"delete {defect.id} ({defect.title})")
    deleted = catalog.delete_defect(ref)
    if as_json:
        terminal.data({"deleted": deleted})
    else:
        terminal.line(f"deleted {deleted}")
