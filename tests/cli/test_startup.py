"""The CLI starts fast: --help and --version import neither SQLAlchemy nor httpx."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.core import TyperCommand

from testkase_cli.cli.app import COMMANDS, build_command

MODULES = sorted({module for module, _, _ in COMMANDS.values()})
PROBE = """
import sys
from testkase_cli.cli.app import main
try:
    main({args!r})
except SystemExit:
    pass
names = ("sqlalchemy", "sqlmodel", "httpx", "rich", "keyring")
heavy = sorted(m for m in names if m in sys.modules)
if {args!r} in (["--help"], ["--version"]):  # no command module at all
    heavy += sorted(m for m in {modules!r} if "testkase_cli.cli." + m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["req", "--help"], ["sync", "--help"]])
def test_help_and_version_stay_light(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, modules=MODULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    heavy = done.stderr.strip().splitlines()[-1]
    assert heavy == "HEAVY=", heavy


def test_version_and_module_entry_point() -> None:
    from testkase_cli import __version__

    done = subprocess.run(
        [sys.executable, "-m", "testkase_cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"testkase {__version__}"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_root_listing_matches_each_commands_own_help(name: str) -> None:
    # The root --help lists commands from a table, without building them: same text.
    built = build_command(name)
    listed = TyperCommand(name, help=COMMANDS[name][2])
    for limit in (30, 45, 67, 1000):
        assert listed.get_short_help_str(limit) == built.get_short_help_str(limit)
