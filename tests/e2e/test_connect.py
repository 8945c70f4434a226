"""`connect`, `status` and `reset` against the emulator: good and bad credentials, and
the token never lands anywhere testkase writes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.conftest import Run
from tests.e2e.conftest import FLAVORS, connect_args

from testkase_cli.cli.sandbox import SANDBOX_EMAIL, SANDBOX_TOKEN, build
from testkase_cli.sandbox.core import Server


@pytest.fixture(params=FLAVORS)
def emulator(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    platform, _, variant = request.param.partition("-")
    server = Server(build(platform, variant or "cloud", 1, 0))
    yield request.param, server.start()
    server.stop()


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "testkase_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                yield path


def test_connect_with_a_good_token_stores_it_only_in_the_keyring(
    emulator: tuple[str, str], isolated_env: Path
) -> None:
    flavor, url = emulator
    assert run("init", "--name", "web").code == 0
    done = run(*connect_args(flavor, url), "--token-stdin", "--json", stdin=SANDBOX_TOKEN)
    assert done.code == 0, done.err
    body = done.json
    assert body["token_source"] == "keyring"
    assert body["project"] in ("PROJ", "demo/web")
    if flavor.startswith("jira"):
        assert body["deployment"] == flavor.split("-")[1]
        assert body["issue_type"] == "Bug"
    synced = run("--verbose", "sync", "--json")
    assert synced.code == 0, synced.err
    status = run("status", "--json")
    assert status.json["connection"]["token_source"] == "keyring"
    assert "priority_mapping" in status.json["connection"]
    home = isolated_env.parent / "home"
    for path in _files_under(isolated_env, home):
        if path.name == "keyring_pass.cfg":
            continue
        assert SANDBOX_TOKEN.encode() not in path.read_bytes(), path
    for output in (done, synced, status):
        assert SANDBOX_TOKEN not in output.out + output.err
    reset = run("reset", "--yes", "--json")
    assert reset.code == 0, reset.err
    after = run("req", "list", "--json").json
    assert after and all(r["external"]["state"] == "detached" for r in after)
    assert all(not r["read_only"] for r in after)
    assert "[connection]" not in (isolated_env / "testkase.toml").read_text()
    assert run("sync").code == 6


def test_a_wrong_token_is_exit_3_with_advice(emulator: tuple[str, str]) -> None:
    flavor, url = emulator
    run("init")
    done = run(*connect_args(flavor, url), "--token-stdin", "--json", stdin="not-the-token")
    assert done.code == 3, done.err
    assert done.out == ""
    assert done.error["code"]
    assert done.error["hint"]
    assert "not-the-token" not in done.err
    assert "[connection]" not in Path("testkase.toml").read_text()


def test_unknown_project_is_exit_5(emulator: tuple[str, str]) -> None:
    flavor, url = emulator
    run("init")
    args = connect_args(flavor, url)
    args[args.index("--project") + 1] = "NOPE" if flavor.startswith("jira") else "nobody/nothing"
    done = run(*args, "--token-stdin", "--json", stdin=SANDBOX_TOKEN)
    assert done.code == 5, done.err
    assert "NOPE" in done.error["message"] or "nobody" in done.error["message"]


def test_no_project_and_no_terminal_lists_the_projects(emulator: tuple[str, str]) -> None:
    flavor, url = emulator
    run("init")
    args = connect_args(flavor, url)
    index = args.index("--project")
    del args[index : index + 2]
    done = run(*args, "--token-stdin", "--json", stdin=SANDBOX_TOKEN)
    assert done.code == 2, done.err
    assert "--project" in done.error["hint"]


@pytest.mark.parametrize("emulator", ["jira-cloud", "jira-server"], indirect=True)
def test_issue_type_not_enabled_is_exit_5(emulator: tuple[str, str]) -> None:
    flavor, url = emulator
    run("init")
    done = run(
        *connect_args(flavor, url),
        "--issue-type",
        "Epic Saga",
        "--token-stdin",
        "--json",
        stdin=SANDBOX_TOKEN,
    )
    assert done.code == 5, done.err
    assert "Bug" in done.error["hint"]


def test_no_keyring_backend_is_exit_3_unless_the_env_has_the_token(
    emulator: tuple[str, str],
) -> None:
    flavor, url = emulator
    run("init")
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    refused = run(
        *connect_args(flavor, url), "--token-stdin", "--json", stdin=SANDBOX_TOKEN, env=no_keyring
    )
    assert refused.code == 3
    assert "TESTKASE_TOKEN" in refused.error["hint"]
    accepted = run(
        *connect_args(flavor, url), "--json", env={**no_keyring, "TESTKASE_TOKEN": SANDBOX_TOKEN}
    )
    assert accepted.code == 0, accepted.err
    assert accepted.json["token_source"] == "environment"
    assert run("sync", env={**no_keyring, "TESTKASE_TOKEN": SANDBOX_TOKEN}).code == 0
    assert run("sync", "--json", env=no_keyring).code == 3


def test_credentials_in_the_url_are_refused(emulator: tuple[str, str]) -> None:
    flavor, url = emulator
    run("init")
    args = connect_args(flavor, url.replace("http://", "http://me:secret@"))
    done = run(*args, "--token-stdin", "--json", stdin=SANDBOX_TOKEN)
    assert done.code == 2
    assert "credentials" in done.error["message"]


@pytest.mark.parametrize("emulator", ["jira-cloud"], indirect=True)
def test_jira_cloud_needs_the_email(emulator: tuple[str, str]) -> None:
    flavor, url = emulator
    run("init")
    args = [a for a in connect_args(flavor, url) if a not in ("--email", SANDBOX_EMAIL)]
    done = run(*args, "--token-stdin", "--json", stdin=SANDBOX_TOKEN)
    assert done.code == 2
    assert "--email" in done.error["hint"]
