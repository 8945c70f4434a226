"""The composition root's state: global options, and lazily opened config and store."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from testkase_cli.errors import UsageError
from testkase_cli.output.terminal import Terminal

if TYPE_CHECKING:
    from pathlib import Path

    from testkase_cli.domain.settings import Settings
    from testkase_cli.store.catalog import Catalog
    from testkase_cli.store.repository import Store


@dataclass
class AppContext:
    config_option: str | None = None
    db_option: str | None = None
    verbose: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @staticmethod
    def of(ctx: typer.Context) -> AppContext:
        root = ctx.find_root()
        if not isinstance(root.obj, AppContext):
            root.obj = AppContext()
        return root.obj

    def terminal(self, *, as_json: bool = False) -> Terminal:
        return Terminal(json_mode=as_json, verbose=self.verbose)

    def config_path(self) -> Path | None:
        from testkase_cli import config

        return config.discover(self.config_option)

    def settings(self) -> Settings:
        if self._settings is None:
            from testkase_cli import config

            self._settings = config.load(self.config_path())
        return self._settings

    def reload(self) -> Settings:
        self._settings = None
        return self.settings()

    def database_url(self) -> str:
        from testkase_cli.paths import default_database_url

        return (
            self.db_option
            or os.environ.get("TESTKASE_DB")
            or self.settings().database
            or default_database_url()
        )

    def store(self) -> Store:
        if self._store is None:
            from testkase_cli.store.repository import Store

            self._store = Store.open(self.database_url(), self.settings().project)
        return self._store

    def catalog(self) -> Catalog:
        return self.store().catalog

    def close(self) -> None:
        if self._store is not None:
            self._store.engine.dispose()
            self._store = None


def require_flag(terminal: Terminal, yes: bool, what: str) -> None:
    """Confirm a destructive action: --yes, or a prompt on a TTY, else exit 2."""
    if yes:
        return
    if not terminal.interactive:
        raise UsageError(f"refusing to {what} without confirmation", hint="pass --yes")
    if not typer.confirm(f"{what[0].upper()}{what[1:]}?", default=False):
        raise typer.Exit(1)
