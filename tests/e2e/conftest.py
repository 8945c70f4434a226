"""End-to-end fixtures: a tracker emulator over HTTP and a project connected to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.cli.conftest import Run, run_in_process

from testkase_cli.cli.sandbox import SANDBOX_EMAIL, SANDBOX_TOKEN, build
from testkase_cli.sandbox.core import Server

FLAVORS = ["jira-cloud", "jira-server", "gitlab"]
PROJECT = {"jira": "PROJ", "gitlab": "demo/web"}


@dataclass
class Tracker:
    flavor: str
    url: str
    control: httpx.Client
    workdir: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def platform(self) -> str:
        return self.flavor.split("-")[0]

    def cli(self, *args: str) -> Run:
        return run_in_process(self.capsys, *args)

    def sync(self, *extra: str) -> dict[str, Any]:
        result = self.cli("sync", *extra, "--json")
        assert result.out, result.err
        data: dict[str, Any] = json.loads(result.out)
        data["exit"] = result.code
        return data

    def subprocess(self, *args: str, timeout: float = 60) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "testkase_cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )

    def issues(self, label: str | None = None) -> list[dict[str, Any]]:
        params = {"label": label} if label else {}
        result: list[dict[str, Any]] = self.control.get("/_sandbox/issues", params=params).json()
        return result

    def defects_in_tracker(self) -> list[dict[str, Any]]:
        return [i for i in self.issues("testkase-defect") if not i["deleted"]]

    def faults(self, **values: Any) -> None:
        self.control.post("/_sandbox/faults", json=values).raise_for_status()

    def configure(self, **values: Any) -> None:
        self.control.post("/_sandbox/config", json=values).raise_for_status()

    def edit(self, issue_id: str, **fields: Any) -> None:
        self.control.patch(f"/_sandbox/issues/{issue_id}", json=fields).raise_for_status()

    def comment(self, issue_id: str, body: str) -> None:
        self.control.post(
            f"/_sandbox/issues/{issue_id}/comments", json={"body": body}
        ).raise_for_status()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control.get("/_sandbox/stats").json()
        return result

    @property
    def closed(self) -> str:
        return "closed" if self.platform == "gitlab" else "Done"


def connect_args(flavor: str, url: str) -> list[str]:
    platform = flavor.split("-")[0]
    args = ["connect", platform, "--url", url, "--project", PROJECT[platform]]
    if flavor == "jira-cloud":
        args += ["--email", SANDBOX_EMAIL, "--deployment", "cloud"]
    if flavor == "jira-server":
        args += ["--deployment", "server"]
    return args


@pytest.fixture(params=FLAVORS)
def tracker(
    request: pytest.FixtureRequest,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Tracker]:
    flavor: str = request.param
    platform, _, variant = flavor.partition("-")
    server = Server(build(platform, variant or "cloud", 1, 0))
    url = server.start()
    monkeypatch.setenv("TESTKASE_TOKEN", SANDBOX_TOKEN)
    monkeypatch.setenv("TESTKASE_DB", str(isolated_env / "store.db"))
    control = httpx.Client(base_url=url, timeout=30)
    env = Tracker(flavor, url, control, isolated_env, capsys)
    assert env.cli("init", "--name", "web").code == 0
    connected = env.cli(*connect_args(flavor, url))
    assert connected.code == 0, connected.err
    try:
        yield env
    finally:
        control.close()
        server.stop()


SubRun = Callable[..., Run]
