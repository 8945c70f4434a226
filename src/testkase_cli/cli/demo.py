"""`testkase demo`: the whole story against the built-in emulator, in a temporary folder.

It touches nothing of the user's: config, store and token live in a temporary workspace
(removed at the end), the token comes from the environment of this process only, so no
keyring is used.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from testkase_cli.cli.sandbox import SANDBOX_EMAIL, SANDBOX_TOKEN, build
from testkase_cli.errors import KaseError, UsageError
from testkase_cli.output.terminal import Terminal

PROJECTS = {"jira": "PROJ", "gitlab": "demo/web"}


def demo(
    platform: Annotated[str, typer.Option(help="jira or gitlab.")] = "jira",
    flavor: Annotated[str, typer.Option(help="Jira: cloud or server.")] = "cloud",
    keep: Annotated[bool, typer.Option(help="Keep the temporary workspace.")] = False,
) -> None:
    """Run connect, sync, link, execute, push and sync back against the emulator."""
    from testkase_cli.sandbox.core import Server

    if platform not in PROJECTS:
        raise UsageError(f"invalid platform {platform!r}", hint="allowed: jira, gitlab")
    terminal = Terminal()
    started = time.monotonic()
    server = Server(build(platform, flavor, 1, 0), port=0)
    url = server.start()
    workspace = Path(tempfile.mkdtemp(prefix="testkase-demo-"))
    try:
        with _isolated(workspace):
            _story(terminal, platform, flavor, url, workspace)
    finally:
        server.stop()
        if keep:
            terminal.info(f"workspace kept in {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    terminal.markup(
        f"\n[bold green]Done[/] in {time.monotonic() - started:.1f} s. Nothing outside the "
        "temporary workspace was touched. Try it yourself: "
        f"[bold]testkase sandbox serve --platform {platform}[/]"
    )


@contextmanager
def _isolated(workspace: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("TESTKASE_CONFIG", "TESTKASE_DB", "TESTKASE_TOKEN")}
    os.environ["TESTKASE_CONFIG"] = str(workspace / "testkase.toml")
    os.environ["TESTKASE_DB"] = str(workspace / "testkase.db")
    os.environ["TESTKASE_TOKEN"] = SANDBOX_TOKEN
    cwd = Path.cwd()
    os.chdir(workspace)
    try:
        yield
    finally:
        os.chdir(cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _story(terminal: Terminal, platform: str, flavor: str, url: str, workspace: Path) -> None:
    import httpx

    terminal.markup(
        f"[bold]testkase demo[/]: a {platform}{' ' + flavor if platform == 'jira' else ''} "
        f"emulator is running at {url}; the workspace is {workspace}\n"
    )
    connect = ["connect", platform, "--url", url, "--project", PROJECTS[platform]]
    if platform == "jira" and flavor == "cloud":
        connect += ["--email", SANDBOX_EMAIL]
    _step(terminal, "Create a project here", ["init", "--name", "demo"])
    _step(terminal, "Connect (token from TESTKASE_TOKEN, so no keyring)", connect)
    _step(terminal, "Pull the tracker's issues in as requirements", ["sync"])
    _step(terminal, "They are requirements now", ["req", "list", "--status", "active"])
    _step(
        terminal,
        "Write a test case",
        [
            "case",
            "add",
            "Password reset e-mail arrives",
            "--step",
            "request a reset",
            "--step",
            "open the mailbox",
            "--expected",
            "a reset link within a minute",
            "--priority",
            "P1",
        ],
    )
    _step(terminal, "Link it: the tracker issue gets one comment", ["link", "TC-1", "REQ-1"])
    _step(terminal, "Plan a cycle", ["cycle", "add", "Demo cycle"])
    _step(
        terminal,
        "Run the test: it fails, and a defect is opened",
        [
            "exec",
            "CY-1",
            "TC-1",
            "--result",
            "failed",
            "--notes",
            "no e-mail after 5 minutes",
            "--defect",
            "Reset e-mail never arrives",
            "--defect-priority",
            "critical",
        ],
    )
    _step(terminal, "Push the defect: exactly one tracker issue", ["push", "DEF-1"])
    with httpx.Client(base_url=url) as control:
        issue = next(
            i for i in control.get("/_sandbox/issues").json() if "Reset e-mail" in i["title"]
        )
        done = "closed" if platform == "gitlab" else "Done"
        terminal.markup(
            f"\n[bold cyan]In the tracker[/]: a developer fixes {issue['key']}, moves it to "
            f"{done!r} and comments"
        )
        control.patch(f"/_sandbox/issues/{issue['id']}", json={"status": done}).raise_for_status()
        control.post(
            f"/_sandbox/issues/{issue['id']}/comments", json={"body": "Fixed in build 42."}
        ).raise_for_status()
    _step(terminal, "Sync back: status and comment arrive", ["sync"])
    _step(terminal, "The defect, as testkase sees it now", ["defect", "show", "DEF-1"])


def _step(terminal: Terminal, title: str, args: list[str]) -> None:
    from testkase_cli.cli.app import app

    terminal.markup(f"\n[bold]{title}[/]")
    terminal.markup(f"[dim]$[/] testkase {shlex.join(args)}")
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="testkase", standalone_mode=False)
    except KaseError as error:
        raise KaseError(
            f"demo step failed: testkase {shlex.join(args)}: {error.message}", hint=error.hint
        ) from error
