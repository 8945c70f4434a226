"""Shared option aliases."""

from __future__ import annotations

from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
Description = Annotated[str | None, typer.Option("--description", "-d", help="Markdown text.")]
Folder = Annotated[str | None, typer.Option("--folder", help="Folder path like A/B.")]
