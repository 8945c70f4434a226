"""The `testkase` command: global options, command registration, error rendering."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from testkase_cli import __version__
from testkase_cli.cli import cases, cycles, defects, demo, project, requirements, sandbox, tracker
from testkase_cli.cli.context import AppContext
from testkase_cli.cli.junit import app as import_app
from testkase_cli.cli.report import report
from testkase_cli.cli.webhook import app as webhook_app
from testkase_cli.errors import ExitCode, KaseError
from testkase_cli.output.terminal import Terminal

app = typer.Typer(
    name="testkase",
    help="Test management at the terminal, kept in sync with Jira and GitLab issues.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"testkase {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        str | None, typer.Option("--config", help="Config file (else TESTKASE_CONFIG, ...).")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Store: SQLAlchemy URL or SQLite path.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Trace requests.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options go before the sub-command."""
    env = AppContext(config_option=config, db_option=db, verbose=verbose)
    ctx.obj = env
    ctx.call_on_close(env.close)
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)
        for noisy in ("httpcore", "httpx"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


app.add_typer(requirements.app, name="req")
app.add_typer(cases.app, name="case")
app.add_typer(cycles.app, name="cycle")
app.add_typer(defects.app, name="defect")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(import_app, name="import")
app.add_typer(webhook_app, name="webhook")
app.command("exec")(cycles.execute)
app.command("link")(cycles.link)
app.command("unlink")(cycles.unlink)
app.command("demo")(demo.demo)
app.command("report")(report)
project.register(app)
tracker.register(app)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    terminal = Terminal(json_mode="--json" in args, verbose="--verbose" in args or "-v" in args)
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="testkase", standalone_mode=False)
    except KaseError as error:
        terminal.error(error)
        sys.exit(int(error.exit_code))
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(int(ExitCode.USAGE))
    except typer.TyperException as error:
        usage = KaseError(error.format_message(), hint="see: testkase --help", code="usage")
        terminal.error(usage)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as bug:
        if terminal.verbose:
            import traceback

            traceback.print_exc()
        internal = KaseError(
            f"internal error: {type(bug).__name__}: {bug}",
            hint="this is a bug in testkase; rerun with --verbose for the traceback",
        )
        terminal.error(internal)
        sys.exit(int(ExitCode.INTERNAL))
    sys.exit(code if isinstance(code, int) else 0)
