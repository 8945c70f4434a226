"""The token never leaks: a full session, every output and every file checked.

A session of real processes (connect, sync, link, push, status, reset; each also with
--verbose; error paths with a wrong token and with the tracker down) runs against the
emulator with the token in the keyring. After each command, stdout, stderr (the --json
error documents, --verbose traces) and every file under the temp HOME and the workspace
(except the keyring backend's own file) are searched for the token, raw and in the
encodings it travels in (base64 of the token, of Jira Cloud's `email:token`, URL-quoted).
The search is proven able to fail: it must find the token in the keyring's file.

Also: credentials in a tracker URL (option or config file) are refused without being
echoed; plain http:// to a host that is not loopback is warned about.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from tests.cli.conftest import Run
from tests.e2e.conftest import FLAVORS, connect_args
from tests.reliability.conftest import LONG

from testkase_cli.cli.sandbox import SANDBOX_EMAIL, SANDBOX_TOKEN, build
from testkase_cli.sandbox.core import Server

WRONG_TOKEN = "wrong-token-3f9a2c71d0"
KEYRING_FILE = "keyring_pass.cfg"


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    forms = {raw, quote(secret, safe="").encode()}
    for value in (raw, f"{SANDBOX_EMAIL}:{secret}".encode()):
        encoded = base64.b64encode(value)
        forms |= {encoded, encoded.rstrip(b"="), base64.urlsafe_b64encode(value).rstrip(b"=")}
    return sorted(forms)


def _leaks(data: bytes, secret: str) -> list[bytes]:
    return [form for form in _forms(secret) if form in data]


def _files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                yield path


@pytest.fixture(params=FLAVORS if LONG else ["jira-cloud"])
def emulator(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    platform, _, variant = request.param.partition("-")
    server = Server(build(platform, variant or "cloud", 1, 0))
    yield request.param, server.start()
    server.stop()


class Session:
    def __init__(self, workdir: Path, home: Path) -> None:
        self.roots = (workdir, home)
        self.ran: list[tuple[str, int]] = []

    def run(self, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Run:
        done = subprocess.run(
            [sys.executable, "-m", "testkase_cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **(env or {})},
            check=False,
        )
        result = Run(done.returncode, done.stdout, done.stderr)
        self.ran.append((" ".join(args), result.code))
        self.check(" ".join(args), result)
        return result

    def local(self, *args: str) -> Run:
        """A command that never touches the tracker: in this process (faster), checked
        all the same."""
        from testkase_cli.cli.app import main

        out, err = io.StringIO(), io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 1
        result = Run(code, out.getvalue(), err.getvalue())
        self.ran.append((" ".join(args), code))
        self.check(" ".join(args), result)
        return result

    def check(self, what: str, result: Run) -> None:
        for secret in (SANDBOX_TOKEN, WRONG_TOKEN):
            output = (result.out + result.err).encode()
            assert not _leaks(output, secret), (what, secret, result.out, result.err)
            for path in _files(*self.roots):
                if path.name == KEYRING_FILE:
                    continue
                found = _leaks(path.read_bytes(), secret)
                assert not found, (what, secret, path, found)


def test_a_full_session_never_shows_or_stores_the_token(
    emulator: tuple[str, str], isolated_env: Path
) -> None:
    flavor, url = emulator
    home = isolated_env.parent / "home"
    session = Session(isolated_env, home)
    # Short profile: each command once, --verbose where the token is used; long: both.
    both: list[list[str]] = [[], ["--verbose"]] if LONG else [["--verbose"]]
    assert session.local("init", "--name", "web").code == 0
    args = connect_args(flavor, url)
    for verbose in [[], ["--verbose"]]:
        done = session.run(*verbose, *args, "--token-stdin", "--json", stdin=SANDBOX_TOKEN)
        assert done.code == 0, done.err
    for verbose in both:
        assert session.run(*verbose, "sync", "--json").code == 0
    assert session.local("case", "add", "Covers the login").code == 0
    for n, verbose in enumerate(both, start=1):
        assert session.run(*verbose, "link", "TC-1", f"REQ-{n}").code == 0
        assert session.local("defect", "add", f"Leaky {n}").code == 0
        assert session.run(*verbose, "push", f"DEF-{n}", "--json").code == 0
        assert session.run(*verbose, "status", "--json").code == 0
    if LONG:
        assert session.run("status").code == 0

    wrong = {"TESTKASE_TOKEN": WRONG_TOKEN}
    for verbose in both:
        refused = session.run(*verbose, "sync", "--json", env=wrong)
        assert refused.code == 3, refused.err
        bad = session.run(*verbose, *args, "--token-stdin", "--json", stdin=WRONG_TOKEN)
        assert bad.code == 3, bad.err
    if LONG:
        assert session.run("push", "--all", env=wrong).code in (0, 3)
    offline = [a if a != url else "http://127.0.0.1:9" for a in args]
    assert session.run("--verbose", *offline, "--token-stdin", stdin=SANDBOX_TOKEN).code == 4

    for verbose in both:
        done = session.run(*verbose, "reset", "--yes", "--json")
        assert done.code in (0, 6), done.err
    print("commands checked:", len(session.ran))
    stores = [p for p in _files(home) if p.suffix == ".db"]
    assert stores and all(p.stat().st_mode & 0o077 == 0 for p in stores), stores

    keyring = [p for p in _files(home) if p.name == KEYRING_FILE]
    assert keyring, "the keyring backend wrote no file: the search below proves nothing"
    session.run(*args, "--token-stdin", stdin=SANDBOX_TOKEN)
    assert any(_leaks(p.read_bytes(), SANDBOX_TOKEN) for p in keyring), (
        "the leak search cannot find the token where it is stored"
    )


def test_credentials_in_a_config_url_are_refused_and_not_echoed(isolated_env: Path) -> None:
    config = isolated_env / "testkase.toml"
    for url in ("https://me:hunter2pass@jira.example.com", "ftp://me:hunter2pass@jira.example"):
        config.write_text(
            '[project]\nname = "web"\n\n[connection]\nplatform = "jira"\n'
            f'deployment = "cloud"\nurl = "{url}"\nproject = "PROJ"\n'
        )
        for command in (["status", "--json"], ["sync", "--json"], ["req", "list", "--json"]):
            done = subprocess.run(
                [sys.executable, "-m", "testkase_cli", *command],
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 2, (url, command, done.stderr)
            assert "credentials" in done.stderr, done.stderr
            assert "hunter2pass" not in done.stdout + done.stderr


def _connect(url: str) -> subprocess.CompletedProcess[str]:
    """`connect gitlab` to `url`, failing fast (no retries, 2 s timeout)."""
    command = ["connect", "gitlab", "--url", url, "--project", "x", "--token-stdin"]
    return subprocess.run(
        [sys.executable, "-m", "testkase_cli", *command],
        input="tok",
        capture_output=True,
        text=True,
        env={**os.environ, "TESTKASE_RETRY_BUDGET": "0", "TESTKASE_HTTP_TIMEOUT": "2"},
        check=False,
    )


@pytest.mark.parametrize(
    "url",
    ["http://jira.example.invalid", "HTTP://jira.example.invalid", "http://127.evil.invalid"],
)
def test_plain_http_to_a_host_that_is_not_loopback_is_warned(url: str) -> None:
    done = _connect(url)
    assert done.returncode != 0
    assert "plain http" in done.stderr, done.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_plain_http_to_loopback_is_not_warned(url: str) -> None:
    done = _connect(url)
    assert done.returncode == 4, done.stderr
    assert "plain http" not in done.stderr
