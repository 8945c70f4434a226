"""Run the real CLI in-process (fast) and, for end-to-end paths, as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from testkase_cli.cli.app import main

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def error(self) -> dict[str, Any]:
        return json.loads(self.err.strip().splitlines()[-1])["error"]


Runner = Callable[..., Run]


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """Run testkase's main() with `args`; its exit code and what it wrote."""
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    else:
        code = 0
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def _postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    if not _postgres_available():
        pytest.fail("PostgreSQL on 127.0.0.1:5432 is not reachable (.ci/run starts it)")
    return PG_URL


@pytest.fixture
def cli(
    store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    """`cli("req", "add", "x")` runs testkase in-process on a fresh project."""
    monkeypatch.setenv("TESTKASE_DB", store_url)
    project = f"p{uuid.uuid4().hex[:10]}"
    capsys.readouterr()

    def run(*args: str) -> Run:
        return run_in_process(capsys, *args)

    assert run("init", "--name", project).code == 0
    return run


@pytest.fixture
def sub() -> Runner:
    """`sub("--help")` runs testkase as a real subprocess."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Run:
        import os

        done = subprocess.run(
            [sys.executable, "-m", "testkase_cli", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
            env={**os.environ, **(env or {})},
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run
