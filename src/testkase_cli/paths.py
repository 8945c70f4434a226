"""Where testkase keeps things by default (platformdirs; XDG variables on Linux)."""

from __future__ import annotations

from pathlib import Path

APP = "testkase"


def user_config_file() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False) / "config.toml"


def default_database_url() -> str:
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path(APP, appauthor=False) / 'testkase.db'}"
