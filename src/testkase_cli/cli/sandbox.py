"""`testkase sandbox serve`: the built-in tracker emulator on loopback."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

import typer

from testkase_cli.errors import UsageError

if TYPE_CHECKING:
    from testkase_cli.sandbox.core import App

app = typer.Typer(help="The built-in tracker emulator.", no_args_is_help=True)

SANDBOX_TOKEN = "sandbox-token"
SANDBOX_EMAIL = "tester@example.com"


def build(platform: str, flavor: str, seed: int, latency_ms: int) -> App:
    if platform == "gitlab":
        from testkase_cli.sandbox.gitlab import create_app as gitlab_app

        return gitlab_app(seed=seed, latency_ms=latency_ms)
    if platform == "jira":
        if flavor not in ("cloud", "server"):
            raise UsageError(f"invalid flavor {flavor!r}", hint="allowed: cloud, server")
        from testkase_cli.sandbox.jira import create_app as jira_app

        return jira_app(flavor=flavor, seed=seed, latency_ms=latency_ms)
    raise UsageError(f"invalid platform {platform!r}", hint="allowed: jira, gitlab")


@app.command("serve")
def serve(
    platform: Annotated[str, typer.Option(help="jira or gitlab.")],
    flavor: Annotated[str, typer.Option(help="Jira: cloud or server.")] = "cloud",
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).")] = 8080,
    seed: Annotated[int, typer.Option(help="Seed of the generated issues.")] = 1,
    latency_ms: Annotated[int, typer.Option(help="Added latency per request.")] = 0,
) -> None:
    """Serve a Jira (Cloud or Server) or GitLab emulator until interrupted."""
    import sys

    from testkase_cli.sandbox.core import Server

    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise UsageError("the sandbox only binds loopback addresses", hint="use 127.0.0.1")
    try:
        server = Server(build(platform, flavor, seed, latency_ms), host=host, port=port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    url = server.start()
    who = f"--email {SANDBOX_EMAIL} " if platform == "jira" and flavor == "cloud" else ""
    sys.stdout.write(
        f"{platform} sandbox ({flavor if platform == 'jira' else 'v4'}) at {url}\n"
        f"token: {SANDBOX_TOKEN}\n"
        f"try:   printf {SANDBOX_TOKEN} | testkase connect {platform} --url {url} "
        f"{who}--token-stdin\n"
    )
    sys.stdout.flush()
    stopped = threading.Event()
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
