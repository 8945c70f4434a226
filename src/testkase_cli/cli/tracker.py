"""Commands that talk to the tracker: connect, reset, sync, push."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from testkase_cli.cli.context import AppContext
from testkase_cli.errors import RejectedError
from testkase_cli.output.terminal import Terminal

if TYPE_CHECKING:
    from testkase_cli.domain.models import Defect


def register(app: typer.Typer) -> None:
    """Tracker commands are added here as they land."""


def push_defects(env: AppContext, terminal: Terminal, refs: list[str]) -> list[Defect]:
    if env.settings().connection is None:
        raise RejectedError(
            "not connected to a tracker, so nothing can be pushed",
            hint="connect first: testkase connect jira|gitlab ...",
        )
    raise RejectedError("pushing is not available in this build")


def drain_after_change(env: AppContext, terminal: Terminal) -> bool:
    """Send what a local change queued, when connected; False leaves it for `sync`."""
    return env.settings().connection is not None and False
