"""`testkase import junit`: test results from CI into a cycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from testkase_cli.cli.context import AppContext
from testkase_cli.cli.options import JsonFlag
from testkase_cli.errors import KaseError, RejectedError, UsageError

if TYPE_CHECKING:
    from testkase_cli.domain.models import Defect
    from testkase_cli.output.terminal import Terminal
    from testkase_cli.services.junit import ImportReport

app = typer.Typer(help="Import test results.", no_args_is_help=True)


@app.command("junit")
def junit(
    ctx: typer.Context,
    files: Annotated[list[str], typer.Argument(help="JUnit/xUnit XML reports.")],
    cycle: Annotated[str, typer.Option("--cycle", help="Cycle name (created when missing).")],
    defects: Annotated[
        bool, typer.Option("--defects", help="Open a defect for each failed test.")
    ] = False,
    push: Annotated[bool, typer.Option("--push", help="Push those defects.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Record JUnit results (pytest, Surefire, Gradle, Jest) in a cycle; safe to repeat."""
    from testkase_cli.services import junit as service

    env = AppContext.of(ctx)
    terminal = env.terminal(as_json=as_json)
    if push and not defects:
        raise UsageError("--push needs --defects")
    if push and env.settings().connection is None:
        raise RejectedError(
            "--push: this project is not connected to a tracker; nothing was imported",
            hint="connect first, or import without --push and run testkase push later",
        )
    report = service.run(env.store(), files, cycle, defects=defects)
    if push and (report.defects or report.unpushed):
        report.pushed = _push(env, terminal, report)
    if as_json:
        terminal.data(report.as_json())
        return
    _render(terminal, report)


def _push(env: AppContext, terminal: Terminal, report: ImportReport) -> list[Defect]:
    from testkase_cli.cli.tracker import push_defects

    ids = [d.id for d in report.defects] + report.unpushed
    try:
        return push_defects(env, terminal, ids)
    except KaseError as error:
        done = f"imported into {report.cycle.id} with defects {', '.join(ids)}"
        raise type(error)(
            f"{done}, but pushing them failed: {error.message}",
            hint="the results are recorded; push later with: testkase push --all",
            code=error.code,
        ) from error


def _render(terminal: Terminal, report: ImportReport) -> None:
    runs = report.executions
    rows = [
        ("files", ", ".join(f"{f.path} ({len(f.report.cases)} tests)" for f in report.files)),
        ("test cases", f"{report.matched} matched, {report.created} created"),
        (
            "executions",
            f"{runs['passed']} passed, {runs['failed']} failed, {runs['skipped']} skipped",
        ),
        ("already imported", str(report.already_imported)),
        ("defects", ", ".join(d.id for d in report.defects) or "-"),
    ]
    if report.pushed:
        pushed = [f"{d.id} -> {d.external.key}" for d in report.pushed if d.external]
        rows.append(("pushed", ", ".join(pushed)))
    terminal.fields(f"import into {report.cycle.id} ({report.cycle.name})", rows)
