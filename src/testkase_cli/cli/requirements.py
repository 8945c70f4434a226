"""`testkase req ...`: requirements."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from testkase_cli.cli.context import AppContext, require_flag
from testkase_cli.cli.options import Description, Folder, JsonFlag, YesFlag
from testkase_cli.cli.render import show_requirement, show_requirements
from testkase_cli.domain.models import Priority, RequirementStatus, Source
from testkase_cli.errors import RejectedError, UsageError

app = typer.Typer(help="Requirements: add, list, show, edit, attach, delete.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="REQ-n, or the tracker key (PROJ-123, #45).")]


@app.command("add")
def add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Title.")],
    description: Description = None,
    priority: Annotated[str, typer.Option(help="P0..P3.")] = "P2",
    status: Annotated[str, typer.Option(help="draft, active or deprecated.")] = "draft",
    folder: Folder = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a local requirement and print its id."""
    env = AppContext.of(ctx)
    req = env.catalog().add_requirement(
        _title(title),
        description=description or "",
        priority=Priority.parse(priority, what="priority"),
        status=RequirementStatus.parse(status, what="status"),
        folder=_folder(folder),
    )
    show_requirement(env.terminal(as_json=as_json), req, created=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    folder: Folder = None,
    source: Annotated[str | None, typer.Option(help="local, jira or gitlab.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List requirements, optionally filtered."""
    env = AppContext.of(ctx)
    reqs = env.catalog().iter_requirements(
        status=RequirementStatus.parse(status, what="status") if status else None,
        folder=folder,
        source=Source.parse(source, what="source") if source else None,
    )
    show_requirements(env.terminal(as_json=as_json), reqs)


@app.command("show")
def show(ctx: typer.Context, ref: Ref, as_json: JsonFlag = False) -> None:
    """Show one requirement with its links."""
    env = AppContext.of(ctx)
    show_requirement(env.terminal(as_json=as_json), env.catalog().get_requirement(ref))


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    description: Description = None,
    priority: Annotated[str | None, typer.Option(help="P0..P3.")] = None,
    status: Annotated[str | None, typer.Option(help="draft, active or deprecated.")] = None,
    folder: Folder = None,
    as_json: JsonFlag = False,
) -> None:
    """Edit a requirement. Synced ones: only folder and priority (a local override)."""
    env = AppContext.of(ctx)
    changes: dict[str, str] = {}
    if title is not None:
        changes["title"] = _title(title)
    if description is not None:
        changes["description"] = description
    if status is not None:
        changes["status"] = RequirementStatus.parse(status, what="status").value
    if priority is not None:
        changes["priority"] = Priority.parse(priority, what="priority").value
    if folder is not None:
        changes["folder"] = _folder(folder)
    if not changes:
        raise UsageError(
            "nothing to change",
            hint="pass --title, --description, --priority, --status or --folder",
        )
    catalog = env.catalog()
    current = catalog.get_requirement(ref)
    tracked = {"title", "description", "status"} & changes.keys()
    if current.read_only and tracked and current.external is not None:
        raise RejectedError(
            f"{current.id} is synced from {current.external.key}: "
            f"{', '.join(sorted(tracked))} {'is' if len(tracked) == 1 else 'are'} read-only",
            hint=f"edit it in the tracker ({current.external.url}); folder and priority "
            "stay editable here",
        )
    show_requirement(env.terminal(as_json=as_json), catalog.edit_requirement(ref, changes))


@app.command("attach")
def attach(
    ctx: typer.Context,
    ref: Ref,
    file: Annotated[Path, typer.Argument(help="File to attach (stored in the store).")],
    as_json: JsonFlag = False,
) -> None:
    """Attach a file to a requirement."""
    env = AppContext.of(ctx)
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror}") from exc
    req = env.catalog().attach(ref, file.name, content)
    show_requirement(env.terminal(as_json=as_json), req)


@app.command("delete")
def delete(ctx: typer.Context, ref: Ref, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
    """Delete a requirement (its id is never reused)."""
    env = AppContext.of(ctx)
    terminal = env.terminal(as_json=as_json)
    catalog = env.catalog()
    req = catalog.get_requirement(ref)
    require_flag(terminal, yes, f"delete {req.id} ({req.title})")
    deleted = catalog.delete_requirement(ref)
    if as_json:
        terminal.data({"deleted": deleted})
    else:
        terminal.line(f"deleted {deleted}")


def _title(raw: str) -> str:
    title = raw.strip()
    if not title:
        raise UsageError("the title is empty")
    return title


def _folder(raw: str | None) -> str:
    if raw is None:
        return ""
    parts = [p.strip() for p in raw.strip().strip("/").split("/")]
    if any(not p for p in parts) and raw.strip("/ "):
        raise UsageError(f"invalid folder {raw!r}", hint="use a path like A/B")
    return "/".join(p for p in parts if p)
