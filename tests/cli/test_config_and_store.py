"""Config discovery and validation, the store's file mode, versions and migrations."""

from __future__ import annotations

import functools
import sqlite3
import stat
from pathlib import Path

import pytest
from tests.cli.conftest import Runner, run_in_process


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Runner:
    return functools.partial(run_in_process, capsys)


def test_nearest_config_in_a_parent_folder_is_used(run: Runner, isolated_env: Path) -> None:
    assert run("init", "--name", "shop").code == 0
    nested = isolated_env / "a" / "b"
    nested.mkdir(parents=True)
    import os

    os.chdir(nested)
    assert run("status", "--json").json["project"] == "shop"


def test_env_and_flag_choose_the_config(
    run: Runner, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = isolated_env / "other.toml"
    other.write_text('[project]\nname = "other"\n')
    monkeypatch.setenv("TESTKASE_CONFIG", str(other))
    assert run("status", "--json").json["project"] == "other"
    flag = isolated_env / "flag.toml"
    flag.write_text('[project]\nname = "flagged"\n')
    assert run("--config", str(flag), "status", "--json").json["project"] == "flagged"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[project\nname=", "not valid TOML"),
        ('[connection]\nplatform = "bitbucket"\nurl = "https://x"\n', "connection.platform"),
        ('[sync]\nconflict = "mine"\n', "sync.conflict"),
        ('[mapping.defect_status]\n"Reopened" = "To Do"\n', "Reopened"),
        ('[mapping.requirement_status]\n"To Do" = "Maybe"\n', "requirement status"),
        (
            '[connection]\nplatform = "jira"\ndeployment = "cloud"\n'
            'url = "https://me:pw@acme.atlassian.net"\n',
            "credentials",
        ),
    ],
)
def test_broken_config_is_exit_2_naming_file_and_key(
    run: Runner, isolated_env: Path, body: str, words: str
) -> None:
    path = isolated_env / "testkase.toml"
    path.write_text(body)
    result = run("req", "list", "--json")
    assert result.code == 2
    assert result.out == ""
    assert str(path) in result.error["message"]
    assert words in result.error["message"] + result.error["hint"]


def test_rewriting_the_config_keeps_unknown_keys(run: Runner, isolated_env: Path) -> None:
    import tomllib

    path = isolated_env / "testkase.toml"
    path.write_text('team = "qa"\n[project]\nname = "web"\nowner = "ana"\n[custom]\nx = 1\n')
    assert run("init").code == 0
    from testkase_cli import config

    config.update(path, lambda doc: doc.setdefault("sync", {}).update(interval=30))
    doc = tomllib.loads(path.read_text())
    assert doc["team"] == "qa"
    assert doc["project"] == {"name": "web", "owner": "ana"}
    assert doc["custom"] == {"x": 1}
    assert doc["sync"] == {"interval": 30}


def test_sqlite_store_is_created_private(run: Runner, isolated_env: Path) -> None:
    db = isolated_env / "private.db"
    assert run("--db", str(db), "req", "add", "x").code == 0
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_default_store_lives_in_the_user_data_dir(run: Runner, isolated_env: Path) -> None:
    assert run("req", "add", "x").code == 0
    data = Path(str(isolated_env)).parent / "home" / ".local" / "share" / "testkase"
    assert (data / "testkase.db").is_file()


def test_store_newer_than_the_tool_is_refused_untouched(run: Runner, isolated_env: Path) -> None:
    db = isolated_env / "future.db"
    assert run("--db", str(db), "req", "add", "x").code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tk_meta SET value = '999' WHERE key = 'schema_version'")
    before = db.read_bytes()
    result = run("--db", str(db), "req", "list", "--json")
    assert result.code == 2
    assert "newer" in result.error["message"]
    assert db.read_bytes() == before


def test_migrated_old_store_equals_a_fresh_one(isolated_env: Path) -> None:
    from sqlalchemy import inspect

    from testkase_cli.store import engine as engines
    from testkase_cli.store.migrations import MIGRATIONS, migrate

    fresh = engines.create(str(isolated_env / "fresh.db"))
    migrate(fresh)
    old = engines.create(str(isolated_env / "old.db"))
    with old.begin() as conn:
        from sqlmodel import SQLModel

        SQLModel.metadata.create_all(conn, tables=[SQLModel.metadata.tables["tk_meta"]])
        MIGRATIONS[0][1](conn)
        conn.exec_driver_sql("INSERT INTO tk_meta (key, value) VALUES ('schema_version', '1')")
    migrate(old)

    def shape(engine: object) -> dict[str, list[str]]:
        inspector = inspect(engine)
        return {
            table: sorted(c["name"] for c in inspector.get_columns(table))
            for table in sorted(inspector.get_table_names())
        }

    assert shape(old) == shape(fresh)
    fresh.dispose()
    old.dispose()


def test_postgres_url_without_the_driver_names_the_extra(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name: str, *args: object, **kwargs: object) -> object:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError("No module named 'psycopg'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    result = run("--db", "postgresql://u@127.0.0.1/x", "req", "list", "--json")
    assert result.code == 2
    assert "testkase-cli[postgres]" in result.error["hint"]


def test_verbose_shows_a_traceback_only_for_bugs(run: Runner) -> None:
    plain = run("req", "show", "REQ-404")
    assert plain.code == 5
    assert "Traceback" not in plain.err
    assert plain.err.startswith("error: requirement REQ-404 not found")
