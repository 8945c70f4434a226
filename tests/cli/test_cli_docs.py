"""docs/cli.md is the `--help` of every command; this test keeps it current.

Regenerate with: python tests/cli/test_cli_docs.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from testkase_cli.cli.app import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    if isinstance(command, TyperGroup):
        context = typer.Context(command)
        for name in sorted(command.list_commands(context)):
            found += _paths(command.get_command(context, name), (*prefix, name))
    return found


def render() -> str:
    runner = CliRunner()
    parts = [
        "# Command reference",
        "",
        "Generated from `--help` by `python tests/cli/test_cli_docs.py`; a test keeps it current.",
    ]
    for path in _paths(typer.main.get_command(app)):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"})
        title = " ".join(("testkase", *path))
        parts += ["", f"## {title}", "", "```", result.output.rstrip(), "```"]
    return "\n".join(parts) + "\n"


def test_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is out of date: run python tests/cli/test_cli_docs.py"
    )


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
