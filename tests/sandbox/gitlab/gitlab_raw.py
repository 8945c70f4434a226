"""A raw HTTP client for the GitLab emulator tests (stdlib only, no adapter)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

from testkase_cli.sandbox.gitlab import SANDBOX_TOKEN


@dataclass
class Reply:
    status: int
    headers: Message
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    def links(self) -> dict[str, str]:
        out = {}
        for part in (self.headers.get("Link") or "").split(", <"):
            if part:
                url, _, rel = part.partition(">; rel=")
                out[rel.strip('"')] = url.lstrip("<")
        return out


class Raw:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = SANDBOX_TOKEN,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = path if path.startswith("http") else self.base_url + path
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("PRIVATE-TOKEN", token)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request) as response:  # loopback emulator only
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers, error.read())

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self("GET", path, **kwargs)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        reply = self(method, f"/_sandbox/{path}", body, token=None)
        assert reply.status < 300, reply.raw
        return reply.json if reply.raw else None
