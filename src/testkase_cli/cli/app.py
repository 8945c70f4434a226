"""The `testkase` command: global options, command registration, error rendering."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from testkase_cli import __version__
from testkase_cli.cli.context import AppContext
from testkase_cli.errors import ExitCode, KaseError
from testkase_cli.output.terminal import Terminal

if TYPE_CHECKING:
    from typer._click.core import Command, Context
    from typer._click.formatting import HelpFormatter

# name -> (module under testkase_cli.cli, its Typer or command function, the help's first
# sentence). The root lists commands from this table and builds only the one that runs: a
# command's options cost type-hint evaluation, and most commands import their own modules.
# tests/cli/test_startup.py holds the sentences to the commands' own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("project", "init", "Create testkase.toml in the current folder."),
    "connect": ("tracker", "connect_app", "Connect this project to Jira or GitLab."),
    "status": (
        "project",
        "status",
        "Show the project, the store, the connection and what is queued.",
    ),
    "sync": (
        "tracker",
        "sync",
        "Pull tracker changes, send queued changes, and print what changed.",
    ),
    "push": ("tracker", "push", "Create tracker issues for defects (never twice for one defect)."),
    "reset": (
        "tracker",
        "reset",
        "Stop syncing: forget the token and the connection; keep all local data.",
    ),
    "req": ("requirements", "app", "Requirements: add, list, show, edit, attach, delete."),
    "case": ("cases", "app", "Test cases: add, list, show, edit, delete."),
    "cycle": ("cycles", "app", "Test cycles: add, list, show, edit, delete."),
    "exec": ("cycles", "execute", "Record the result of running a test case in a cycle."),
    "link": (
        "cycles",
        "link",
        "Link a test case to a requirement (and tell the tracker, when it is synced).",
    ),
    "unlink": ("cycles", "unlink", "Remove the link between a test case and a requirement."),
    "defect": ("defects", "app", "Defects: add, list, show, edit, comment, delete."),
    "import": ("junit", "app", "Import test results."),
    "report": (
        "report",
        "report",
        "Traceability: requirements -> test cases -> latest results -> defects, with coverage.",
    ),
    "webhook": ("webhook", "app", "Receive Jira and GitLab webhooks."),
    "sandbox": ("sandbox", "app", "The built-in tracker emulator."),
    "demo": (
        "demo",
        "demo",
        "Run connect, sync, link, execute, push and sync back against the emulator.",
    ),
}


def build_command(name: str) -> Command:
    """The Click command (or group) of one root command, built on its own."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(f"testkase_cli.cli.{module}"), attribute)
    holder = typer.Typer(
        add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
    )
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


class _LazyRoot(TyperGroup):
    """The root group: lists every command, builds only those asked for."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = build_command(cmd_name)
        return self.commands[cmd_name]

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, TyperCommand(name, help=summary).get_short_help_str(limit))
            for name, (_, _, summary) in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=_LazyRoot,
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
