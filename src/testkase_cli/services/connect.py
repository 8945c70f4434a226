"""`testkase connect`: validate the token against the tracker, pick the project and issue
type, store the token (only once the tracker accepted it), and describe the connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from testkase_cli.domain.models import Account, ConnectionSettings, RemoteProject
from testkase_cli.errors import NotFoundError, UsageError
from testkase_cli.ports import SecretStore, Tracker

if TYPE_CHECKING:
    from testkase_cli.store.repository import Store

Opener = Callable[[ConnectionSettings, str], Tracker]
Chooser = Callable[[str, list[str]], str]


@dataclass
class ConnectReport:
    connection: ConnectionSettings
    account: Account
    token_source: str
    projects: list[RemoteProject]
    issue_types: list[str] = field(default_factory=list)
    detached: int = 0


def connect(
    wanted: ConnectionSettings,
    *,
    token: str,
    token_source: str,
    opener: Opener,
    secrets: SecretStore | None,
    store: Store,
    previous: ConnectionSettings | None,
    choose: Chooser | None,
) -> ConnectReport:
    if wanted.platform == "jira" and wanted.deployment == "cloud" and not wanted.email:
        raise UsageError(
            "Jira Cloud needs the account email that owns the API token", hint="pass --email"
        )
    tracker = opener(replace(wanted, project=None), token)
    try:
        account = tracker.whoami()
        projects = tracker.list_projects()
        project = _pick_project(wanted.project, projects, choose)
        remote = tracker.get_project(project)
        chosen = replace(
            wanted,
            project=remote.key if wanted.platform == "jira" else (wanted.project or remote.key),
            account=account.name if not wanted.email else None,
        )
        types: list[str] = []
        if wanted.platform == "jira":
            types = tracker.list_issue_types(chosen.project or "")
            chosen = replace(chosen, issue_type=_pick_type(wanted.issue_type, types, choose))
    finally:
        tracker.close()
    if token_source != "environment":
        if secrets is None:
            raise UsageError("no secret store available")
        secrets.set(chosen.keyring_user, token)
    detached = 0
    if previous is not None and _remote_project_changed(previous, chosen):
        detached = store.detach()
    return ConnectReport(
        connection=chosen,
        account=account,
        token_source=token_source,
        projects=projects,
        issue_types=types,
        detached=detached,
    )


def _remote_project_changed(old: ConnectionSettings, new: ConnectionSettings) -> bool:
    return (old.platform, old.url.rstrip("/"), (old.project or "").casefold()) != (
        new.platform,
        new.url.rstrip("/"),
        (new.project or "").casefold(),
    )


def _pick_project(wanted: str | None, projects: list[RemoteProject], choose: Chooser | None) -> str:
    if wanted:
        return wanted
    names = [f"{p.key}  {p.name}" for p in projects]
    if not projects:
        raise NotFoundError(
            "this token cannot see any project", hint="check the token's permissions or scopes"
        )
    if choose is None:
        listing = ", ".join(p.key for p in projects[:30])
        raise UsageError(
            "no --project given and no terminal to ask on",
            hint=f"pass --project; visible projects: {listing}",
        )
    return choose("project", names).split()[0]


def _pick_type(wanted: str | None, types: list[str], choose: Chooser | None) -> str:
    if wanted:
        for name in types:
            if name.casefold() == wanted.casefold():
                return name
        raise NotFoundError(
            f"issue type {wanted!r} is not enabled in this project",
            hint=f"available: {', '.join(types) or 'none'}; pass --issue-type",
        )
    for preferred in ("Bug", "Defect"):
        if preferred in types:
            return preferred
    if not types:
        raise NotFoundError("the project has no issue type this token can create")
    if choose is None:
        return types[0]
    return choose("issue type for pushed defects", types)
