"""`testkase report`: the traceability matrix as HTML, Markdown or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from testkase_cli.cli.context import AppContext
from testkase_cli.cli.options import JsonFlag
from testkase_cli.errors import UsageError

if TYPE_CHECKING:
    from testkase_cli.domain.traceability import Traceability

FORMATS = ("html", "md", "json")


def report(
    ctx: typer.Context,
    format_: Annotated[
        str, typer.Option("--format", "-f", help="html (default), md or json.")
    ] = "html",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Traceability: requirements -> test cases -> latest results -> defects, with coverage."""
    from testkase_cli.services import traceability

    chosen = format_.strip().lower()
    if chosen not in FORMATS:
        raise UsageError(f"invalid format {format_!r}", hint="allowed: html, md, json")
    if as_json:
        chosen = "json"
    env = AppContext.of(ctx)
    trace = traceability.build(env.catalog(), env.settings().project)
    text = _render(trace, chosen)
    terminal = env.terminal(as_json=as_json)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
    from testkase_cli.domain.traceability import Verdict

    cov = trace.coverage
    terminal.info(
        f"wrote {output}: {cov.requirements} requirements, {cov.covered} covered, "
        f"{cov.verdicts[Verdict.FAILING]} failing, {cov.cases_never_run} test cases never run"
    )


def _render(trace: Traceability, chosen: str) -> str:
    if chosen == "html":
        from testkase_cli.output.report_html import render

        return render(trace)
    from testkase_cli.output import report_text

    if chosen == "md":
        return report_text.markdown(trace)
    import json

    return json.dumps(report_text.as_json(trace), indent=2, ensure_ascii=False) + "\n"
