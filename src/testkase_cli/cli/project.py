"""`testkase init` and `testkase status`."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from testkase_cli.cli.context import AppContext
from testkase_cli.cli.options import JsonFlag
from testkase_cli.errors import UsageError


def init(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Project name (default: this folder).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create testkase.toml in the current folder."""
    from testkase_cli import config

    env = AppContext.of(ctx)
    chosen = env.config_option or os.environ.get("TESTKASE_CONFIG")
    path = Path(chosen).expanduser() if chosen else Path.cwd() / config.FILE_NAME
    project = (name or _slug(Path.cwd().name)).strip()
    if not project:
        raise UsageError("the project name is empty", hint="pass --name NAME")
    if path.exists():
        existing = config.load(path)
        if name is not None and existing.project != project:
            raise UsageError(
                f"{path} already exists for project {existing.project!r}",
                hint="edit [project].name there, or run init in another folder",
            )
        project = existing.project
        created = False
    else:
        config.update(path, lambda doc: doc.setdefault("project", {}).update(name=project))
        created = True
    env.reload()
    env.store()
    terminal = env.terminal(as_json=as_json)
    if as_json:
        terminal.data({"project": project, "config": str(path), "created": created})
    else:
        verb = "created" if created else "already exists:"
        terminal.line(f"{verb} {path} (project {project})")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "default"


def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show the project, the store, the connection and what is queued."""
    from testkase_cli.services import status as service

    env = AppContext.of(ctx)
    report = service.collect(env.settings(), env.store(), env.database_url())
    if report["connection"] is not None:
        report["connection"].update(_remote_status(env))
        report["warnings"] += report["connection"].pop("warnings")
    terminal = env.terminal(as_json=as_json)
    if as_json:
        terminal.data(report)
        return
    _render(terminal, report)


def _remote_status(env: AppContext) -> dict[str, Any]:
    from datetime import UTC, datetime

    from testkase_cli.cli.tracker import resolve_token
    from testkase_cli.errors import KaseError
    from testkase_cli.services import status as service
    from testkase_cli.trackers import open_tracker

    settings = env.settings()
    conn = settings.connection
    assert conn is not None
    try:
        token = resolve_token(conn)
    except KaseError as error:
        return {"token_source": "missing", "warnings": [error.message]}
    tracker = open_tracker(conn, token.value)
    try:
        return service.remote(settings, tracker, token.source, datetime.now(UTC).date())
    finally:
        tracker.close()


def _render(terminal: Any, report: dict[str, Any]) -> None:
    conn = report["connection"]
    pairs: list[tuple[str, Any]] = [
        ("project", report["project"]),
        ("config", report["config"] or "none (defaults)"),
        ("store", report["store"]),
        ("connected", "yes" if report["connected"] else "no"),
    ]
    if conn:
        pairs += [
            ("tracker", f"{conn['platform']} {conn.get('deployment') or ''} {conn['url']}"),
            ("remote project", conn.get("project")),
            ("token", conn.get("token_source") or "missing"),
        ]
        if conn.get("token_expires"):
            pairs.append(("token expires", conn["token_expires"]))
        if conn.get("priority_mapping"):
            levels = ", ".join(f"{k}->{v}" for k, v in conn["priority_mapping"].items())
            pairs.append(("priorities", levels))
        if conn.get("status_mapping"):
            states = ", ".join(f"{k}->{v}" for k, v in conn["status_mapping"].items())
            pairs.append(("statuses", states))
    sync = report["sync"]
    pairs += [
        ("last sync", sync["last_sync_at"] or "never"),
        ("queued", f"{report['queue']['pending']} pending, {report['queue']['failed']} failed"),
    ]
    counts = report["counts"]
    pairs.append(("contents", ", ".join(f"{v} {k}" for k, v in counts.items())))
    terminal.fields("testkase status", pairs)
    for warning in report.get("warnings", []):
        terminal.warn(warning)
