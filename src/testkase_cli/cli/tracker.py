"""Commands that talk to the tracker: connect, reset, sync, push."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from testkase_cli.cli.context import AppContext, require_flag
from testkase_cli.cli.options import JsonFlag, YesFlag
from testkase_cli.errors import AuthError, RejectedError, UsageError
from testkase_cli.output.terminal import Terminal

if TYPE_CHECKING:
    from collections.abc import Callable

    from testkase_cli.domain.models import ConnectionSettings, Defect
    from testkase_cli.ports import Tracker
    from testkase_cli.secrets import Token
    from testkase_cli.services.report import SyncReport

connect_app = typer.Typer(help="Connect this project to Jira or GitLab.", no_args_is_help=True)


# -- opening the tracker ---------------------------------------------------------------


def resolve_token(conn: ConnectionSettings) -> Token:
    from testkase_cli.secrets import NO_BACKEND_HINT, KeyringSecrets, Token, from_env

    token = from_env()
    if token is not None:
        return token
    stored = KeyringSecrets().get(conn.keyring_user)
    if stored:
        return Token(stored, "keyring")
    raise AuthError(
        f"no token for {conn.url}: the keyring has none and TESTKASE_TOKEN is not set",
        hint="run testkase connect again, or set TESTKASE_TOKEN (" + NO_BACKEND_HINT + ")",
    )


def open_connected(env: AppContext) -> Tracker:
    from testkase_cli.trackers import open_tracker

    conn = env.settings().connection
    if conn is None:
        raise RejectedError(
            "this project is not connected to a tracker",
            hint="connect first: testkase connect jira|gitlab --url URL ...",
        )
    return open_tracker(conn, resolve_token(conn).value)


def push_defects(env: AppContext, terminal: Terminal, refs: list[str]) -> list[Defect]:
    from testkase_cli.services import push as service

    tracker = open_connected(env)
    try:
        defects, report = service.push(
            env.settings(), env.store(), tracker, refs, on_wait=_waiting(env, terminal)
        )
    finally:
        tracker.close()
    _raise_for_errors(report)
    return defects


def drain_after_change(env: AppContext, terminal: Terminal) -> bool:
    """Send what a local change queued, when connected; False leaves it for `sync`."""
    from testkase_cli.errors import KaseError
    from testkase_cli.services import outbox
    from testkase_cli.services.report import SyncReport

    if env.settings().connection is None:
        return False
    try:
        tracker = open_connected(env)
    except KaseError as error:
        terminal.warn(f"{error.message}; the comment stays queued for the next sync")
        return False
    report = SyncReport(project=env.settings().project, platform=tracker.platform, mode="link")
    try:
        with outbox.sending(env.store(), on_wait=_waiting(env, terminal)):
            outbox.deliver(env.store(), tracker, env.settings(), report, kinds=("link_comment",))
    except KaseError as error:
        terminal.warn(f"{error.message}; the comment stays queued for the next sync")
        return False
    finally:
        tracker.close()
    return report.comments["pushed"] > 0 and not report.errors


def _waiting(env: AppContext, terminal: Terminal) -> Callable[[], None]:
    project = env.settings().project

    def notice() -> None:
        terminal.info(f"waiting for the running sync of project {project} to finish")

    return notice


def _raise_for_errors(report: SyncReport) -> None:
    from testkase_cli.errors import PartialSyncError

    if report.errors:
        first = report.errors[0]
        more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        raise PartialSyncError(f"{first.item}: {first.message}{more}", code=first.code)


# -- connect ---------------------------------------------------------------------------

Url = Annotated[str, typer.Option("--url", help="The tracker's base URL.")]
TokenStdin = Annotated[
    bool, typer.Option("--token-stdin", help="Read the token from standard input.")
]


@connect_app.command("jira")
def connect_jira(
    ctx: typer.Context,
    url: Url,
    email: Annotated[str | None, typer.Option(help="Jira Cloud: the token's account.")] = None,
    deployment: Annotated[str, typer.Option(help="auto, cloud or server.")] = "auto",
    project: Annotated[str | None, typer.Option(help="Jira project key.")] = None,
    issue_type: Annotated[str | None, typer.Option(help="Issue type for defects.")] = None,
    jql: Annotated[str | None, typer.Option(help="JQL ANDed with the project.")] = None,
    token_stdin: TokenStdin = False,
    as_json: JsonFlag = False,
) -> None:
    """Connect to Jira Cloud (email + API token) or Server/DC (personal access token)."""
    from testkase_cli.domain.models import ConnectionSettings

    if deployment not in ("auto", "cloud", "server"):
        raise UsageError(f"invalid deployment {deployment!r}", hint="allowed: auto, cloud, server")
    _check_url(url)
    if deployment == "auto":
        from testkase_cli.trackers import detect_jira_deployment

        deployment = detect_jira_deployment(url)
    wanted = ConnectionSettings(
        platform="jira",
        url=url.rstrip("/"),
        project=project,
        deployment=deployment,
        email=email if deployment == "cloud" else None,
        issue_type=issue_type,
        jql=jql,
    )
    _connect(ctx, wanted, token_stdin=token_stdin, as_json=as_json)


@connect_app.command("gitlab")
def connect_gitlab(
    ctx: typer.Context,
    url: Url,
    project: Annotated[str | None, typer.Option(help="Project id or group/sub/project.")] = None,
    labels: Annotated[str | None, typer.Option(help="Only issues with all these (L1,L2).")] = None,
    token_stdin: TokenStdin = False,
    as_json: JsonFlag = False,
) -> None:
    """Connect to GitLab (gitlab.com or self-managed) with a personal access token."""
    from testkase_cli.domain.models import ConnectionSettings

    _check_url(url)
    wanted = ConnectionSettings(
        platform="gitlab",
        url=url.rstrip("/"),
        project=project,
        labels=tuple(x.strip() for x in (labels or "").split(",") if x.strip()),
    )
    _connect(ctx, wanted, token_stdin=token_stdin, as_json=as_json)


def _check_url(url: str) -> None:
    from testkase_cli.config import check_url, is_plain_remote_http

    check_url(url, "--url")
    if is_plain_remote_http(url):
        sys.stderr.write(
            f"warning: {url} is plain http: the token would cross the network unencrypted\n"
        )


def _read_token(token_stdin: bool) -> Token:
    from testkase_cli.secrets import Token, from_env

    if token_stdin:
        value = sys.stdin.readline().strip()
        if not value:
            raise AuthError("--token-stdin was given but standard input held no token")
        return Token(value, "stdin")
    token = from_env()
    if token is not None:
        return token
    if not sys.stdin.isatty():
        raise AuthError(
            "no token: pass --token-stdin, set TESTKASE_TOKEN, or run in a terminal",
            hint='e.g. printf %s "$TOKEN" | testkase connect ... --token-stdin',
        )
    value = typer.prompt("API token", hide_input=True).strip()
    if not value:
        raise AuthError("no token entered")
    return Token(value, "prompt")


def _connect(
    ctx: typer.Context, wanted: ConnectionSettings, *, token_stdin: bool, as_json: bool
) -> None:
    from pathlib import Path

    from testkase_cli import config
    from testkase_cli.secrets import NO_BACKEND_HINT, KeyringSecrets
    from testkase_cli.services import connect as service
    from testkase_cli.trackers import open_tracker

    env = AppContext.of(ctx)
    terminal = env.terminal(as_json=as_json)
    token = _read_token(token_stdin)
    secrets = KeyringSecrets()
    if token.source != "environment" and not secrets.available():
        raise AuthError("no usable keyring backend to store the token in", hint=NO_BACKEND_HINT)
    settings = env.settings()
    report = service.connect(
        wanted,
        token=token.value,
        token_source=token.source,
        opener=open_tracker,
        secrets=secrets,
        store=env.store(),
        previous=settings.connection,
        choose=_chooser(terminal),
    )
    path = env.config_path() or Path.cwd() / config.FILE_NAME
    conn = report.connection

    def write(doc: dict[str, Any]) -> None:
        doc.setdefault("project", {}).setdefault("name", settings.project)
        table: dict[str, Any] = {"platform": conn.platform}
        if conn.deployment:
            table["deployment"] = conn.deployment
        table["url"] = conn.url
        for key in ("email", "account", "project", "issue_type", "jql"):
            value = getattr(conn, key)
            if value:
                table[key] = value
        if conn.labels:
            table["labels"] = list(conn.labels)
        table["token_source"] = "environment" if token.source == "environment" else "keyring"
        doc["connection"] = table

    config.update(path, write)
    if as_json:
        terminal.data(
            {
                "platform": conn.platform,
                "deployment": conn.deployment,
                "url": conn.url,
                "project": conn.project,
                "issue_type": conn.issue_type,
                "account": report.account.name,
                "token_source": "environment" if token.source == "environment" else "keyring",
                "token_expires": report.account.token_expires,
                "projects": [p.key for p in report.projects],
                "issue_types": report.issue_types,
                "detached": report.detached,
                "config": str(path),
            }
        )
        return
    where = f"{conn.platform} {conn.deployment or ''} {conn.url}".replace("  ", " ")
    terminal.line(f"connected to {where} as {report.account.name}: project {conn.project}")
    if conn.issue_type:
        terminal.line(f"defects are pushed as {conn.issue_type!r}")
    if report.detached:
        terminal.line(f"{report.detached} requirement(s) of the previous project were detached")
    terminal.info(f"config written to {path}; run: testkase sync")


def _chooser(terminal: Terminal) -> Any:
    if not terminal.interactive:
        return None

    def choose(what: str, options: list[str]) -> str:
        for index, option in enumerate(options, start=1):
            terminal.line(f"{index:3}. {option}")
        picked = int(typer.prompt(f"Pick the {what}", type=int))
        if not 1 <= picked <= len(options):
            raise UsageError(f"no {what} number {picked}")
        return options[picked - 1]

    return choose


# -- reset -----------------------------------------------------------------------------


def reset(ctx: typer.Context, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
    """Stop syncing: forget the token and the connection; keep all local data."""
    from testkase_cli import config
    from testkase_cli.secrets import KeyringSecrets

    env = AppContext.of(ctx)
    terminal = env.terminal(as_json=as_json)
    settings = env.settings()
    conn = settings.connection
    if conn is None or settings.path is None:
        raise RejectedError("this project is not connected; nothing to reset")
    require_flag(terminal, yes, f"disconnect project {settings.project} from {conn.url}")
    KeyringSecrets().delete(conn.keyring_user)
    detached = env.store().detach()
    config.update(settings.path, lambda doc: doc.pop("connection", None))
    if as_json:
        terminal.data({"reset": True, "detached": detached, "config": str(settings.path)})
        return
    terminal.line(
        f"disconnected from {conn.url}; {detached} requirement(s) are now local (source kept)"
    )


# -- push ------------------------------------------------------------------------------


def push(
    ctx: typer.Context,
    refs: Annotated[list[str] | None, typer.Argument(help="DEF-n ...")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every defect not pushed yet.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create tracker issues for defects (never twice for one defect)."""
    from testkase_cli.output import serialize
    from testkase_cli.services.push import all_unpushed

    env = AppContext.of(ctx)
    terminal = env.terminal(as_json=as_json)
    if all_ == bool(refs):
        raise UsageError("name the defects to push, or pass --all (not both)")
    targets = all_unpushed(env.store()) if all_ else list(refs or [])
    defects = push_defects(env, terminal, targets) if targets else []
    if as_json:
        terminal.data([serialize.defect(d) for d in defects])
        return
    for defect in defects:
        ext = defect.external
        terminal.line(f"{defect.id} -> {ext.key} {ext.url}" if ext else f"{defect.id}: pending")
    if not defects:
        terminal.line("nothing to push")


# -- sync ------------------------------------------------------------------------------


def sync(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="Re-read everything.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Keep syncing.")] = False,
    interval: Annotated[
        int | None, typer.Option("--interval", help="Seconds between runs (--watch).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for a running sync instead of exit 75.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Pull tracker changes, send queued changes, and print what changed."""
    from testkase_cli.cli.syncing import run_sync

    run_sync(
        AppContext.of(ctx),
        full=full,
        watch=watch,
        interval=interval,
        dry_run=dry_run,
        wait=wait,
        as_json=as_json,
    )
