"""The TOML config: discovery (SPEC section 2), validation (section 3), safe rewriting.

Reading uses tomllib; writing uses tomli-w on the parsed document, so keys testkase
does not own are kept (comments are not: TOML writers cannot keep them).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from testkase_cli.domain.models import ConnectionSettings, DefectStatus, RequirementStatus
from testkase_cli.domain.settings import (
    CONFLICT_POLICIES,
    DEFAULT_DEFECT_STATUS,
    DEFAULT_PROJECT,
    DEFAULT_REQUIREMENT_STATUS,
    Settings,
)
from testkase_cli.errors import ConfigError, UsageError
from testkase_cli.paths import user_config_file

FILE_NAME = "testkase.toml"
PLATFORMS = ("jira", "gitlab")
DEPLOYMENTS = ("cloud", "server")


def discover(explicit: str | None = None, *, start: Path | None = None) -> Path | None:
    """The config in force: --config, TESTKASE_CONFIG, nearest testkase.toml, user file."""
    chosen = explicit or os.environ.get("TESTKASE_CONFIG")
    if chosen:
        return Path(chosen).expanduser()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
    user = user_config_file()
    return user if user.is_file() else None


def read_document(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid TOML ({exc})", hint="fix the file, or point --config elsewhere"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc


def load(path: Path | None) -> Settings:
    if path is None:
        return Settings()
    if not path.exists():
        raise ConfigError(
            f"config file {path} does not exist",
            hint="create one with: testkase init, or fix --config / TESTKASE_CONFIG",
        )
    return parse(read_document(path), path)


def parse(doc: Mapping[str, Any], path: Path) -> Settings:
    where = str(path)
    project = _table(doc, "project", where)
    name = project.get("name", DEFAULT_PROJECT)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: project.name must be a non-empty string")
    database = doc.get("database")
    if database is not None and not isinstance(database, str):
        raise ConfigError(f"{where}: database must be a string (a path or an SQLAlchemy URL)")
    sync = _table(doc, "sync", where)
    conflict = sync.get("conflict", "newest")
    if conflict not in CONFLICT_POLICIES:
        raise ConfigError(
            f"{where}: sync.conflict = {conflict!r} is not allowed",
            hint=f"allowed: {', '.join(CONFLICT_POLICIES)}",
        )
    interval = sync.get("interval", 60)
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 5:
        raise ConfigError(f"{where}: sync.interval must be a whole number of seconds >= 5")
    mapping = _table(doc, "mapping", where)
    return Settings(
        project=name.strip(),
        path=path,
        database=database,
        connection=_connection(doc, where),
        conflict=conflict,
        interval=interval,
        requirement_status=_requirement_mapping(mapping, where),
        defect_status=_defect_mapping(mapping, where),
    )


def _table(doc: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{key}] must be a table")
    return value


def _connection(doc: Mapping[str, Any], where: str) -> ConnectionSettings | None:
    if "connection" not in doc:
        return None
    table = _table(doc, "connection", where)
    platform = table.get("platform")
    if platform not in PLATFORMS:
        raise ConfigError(
            f"{where}: connection.platform = {platform!r} is not allowed",
            hint=f"allowed: {', '.join(PLATFORMS)}",
        )
    deployment = table.get("deployment")
    if platform == "jira" and deployment not in DEPLOYMENTS:
        raise ConfigError(
            f"{where}: connection.deployment = {deployment!r} is not allowed for jira",
            hint=f"allowed: {', '.join(DEPLOYMENTS)}",
        )
    url = table.get("url")
    if not isinstance(url, str):
        raise ConfigError(f"{where}: connection.url is required (the tracker's base URL)")
    check_url(url, f"{where}: connection.url")
    strings = {}
    for key in ("project", "email", "issue_type", "jql", "account"):
        value = table.get(key)
        if value is not None and not isinstance(value, str | int):
            raise ConfigError(f"{where}: connection.{key} must be a string")
        strings[key] = None if value is None else str(value)
    labels = table.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise ConfigError(f"{where}: connection.labels must be a list of strings")
    return ConnectionSettings(
        platform=platform,
        url=url.rstrip("/"),
        project=strings["project"],
        deployment=deployment if platform == "jira" else None,
        email=strings["email"],
        issue_type=strings["issue_type"],
        jql=strings["jql"],
        labels=tuple(labels),
        account=strings["account"],
    )


def check_url(url: str, what: str) -> None:
    """An http(s) URL without credentials; a refused URL is never echoed with them."""
    try:
        parts = urlsplit(url)
        credentials = bool(parts.username or parts.password)
        hostname = parts.hostname
    except ValueError as exc:  # an invalid port or IPv6 literal
        raise ConfigError(f"{what} is not a valid URL ({exc})") from exc
    if credentials:
        raise ConfigError(
            f"{what} contains credentials; they would be stored in clear text",
            hint="remove user:password@ from the URL; the token goes in the keyring",
        )
    if parts.scheme not in ("http", "https") or not hostname:
        raise ConfigError(f"{what} = {url!r} is not an http(s) URL")


def is_plain_remote_http(url: str) -> bool:
    """True for http:// (any case) to a host that is not loopback: the token would cross
    the network unencrypted. `localhost` and 127.0.0.0/8, ::1 literals are loopback."""
    import ipaddress

    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a name: only the resolver knows where it goes


def _requirement_mapping(mapping: Mapping[str, Any], where: str) -> dict[str, RequirementStatus]:
    table = mapping.get("requirement_status")
    if table is None:
        return dict(DEFAULT_REQUIREMENT_STATUS)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [mapping.requirement_status] must be a table")
    result: dict[str, RequirementStatus] = {}
    for tracker_status, value in table.items():
        try:
            result[tracker_status] = RequirementStatus.parse(str(value))
        except UsageError as exc:
            raise ConfigError(
                f'{where}: mapping.requirement_status."{tracker_status}" = {value!r} '
                "is not a TestKase requirement status",
                hint=f"allowed: {', '.join(s.value for s in RequirementStatus)}",
            ) from exc
    return result


def _defect_mapping(mapping: Mapping[str, Any], where: str) -> dict[DefectStatus, str]:
    table = mapping.get("defect_status")
    if table is None:
        return dict(DEFAULT_DEFECT_STATUS)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [mapping.defect_status] must be a table")
    result = dict(DEFAULT_DEFECT_STATUS)
    for local, tracker_status in table.items():
        try:
            status = DefectStatus.parse(local)
        except UsageError as exc:
            raise ConfigError(
                f'{where}: mapping.defect_status has unknown TestKase status "{local}"',
                hint=f"allowed: {', '.join(s.value for s in DefectStatus)}",
            ) from exc
        if not isinstance(tracker_status, str) or not tracker_status:
            raise ConfigError(f'{where}: mapping.defect_status."{local}" must be a status name')
        result[status] = tracker_status
    return result


def update(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite `path` with `change` applied; keys testkase does not own are kept."""
    import tomli_w

    doc: dict[str, Any] = read_document(path) if path.exists() else {}
    change(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(tomli_w.dumps(doc), encoding="utf-8")
    tmp.replace(path)
