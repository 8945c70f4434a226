"""The emulator's plumbing: a threaded loopback HTTP server, routing, fault injection.

Platform emulations (`jira.py`, `gitlab.py`) subclass `App`, register routes with
`App.route`, and keep their state behind `App.lock`. Everything under `/_sandbox/` is the
control API the tests, the benchmarks and `testkase demo` use to act "in the tracker"
and to inject faults; it is never rate limited or faulted.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Handler = Callable[["Request"], "Response"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)


@dataclass
class Response:
    """An answer; status 0 (see `RESET`) makes the server reset the connection instead."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json;charset=UTF-8"

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


@dataclass
class Faults:
    """What to break. Counters are per App and only count non-control requests."""

    latency_ms: int = 0
    rate_limit_every: int = 0
    retry_after_s: int = 1
    lose_response: list[str] = field(default_factory=list)
    lose_every: int = 1
    error_burst: int = 0
    error_status: int = 503
    # Every Nth request: the connection is reset (RST, no answer at all), before the
    # request is handled, or after it when `reset_after_handling` (the write is applied).
    reset_every: int = 0
    reset_after_handling: bool = False

    def update(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if not hasattr(self, key):
                raise KeyError(key)
            setattr(self, key, value)


RESET_STATUS = 0


def json_response(status: int, body: Any, **headers: str) -> Response:
    return Response(status=status, body=body, headers=dict(headers))


class App:
    """A routed, fault-injecting emulation; subclasses add routes and state."""

    def __init__(self, *, latency_ms: int = 0) -> None:
        self.lock = threading.RLock()
        self.faults = Faults(latency_ms=latency_ms)
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.request_count = 0
        self.by_endpoint: dict[str, int] = {}
        self.base_url = "http://127.0.0.1"
        self._lost_matches = 0
        self.route("GET", r"/_sandbox/stats")(self._stats)
        self.route("POST", r"/_sandbox/faults")(self._set_faults)

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        compiled = re.compile(f"^{pattern}$")

        def register(fn: Handler) -> Handler:
            self.routes.append((method, compiled, fn))
            return fn

        return register

    def authenticate(self, request: Request) -> Response | None:
        """Return an error response when the request's credentials are refused."""
        return None

    def dispatch(self, request: Request) -> Response:
        control = request.path.startswith("/_sandbox/")
        reset = False
        if not control:
            with self.lock:
                self.request_count += 1
                count = self.request_count
            if self.faults.latency_ms:
                time.sleep(self.faults.latency_ms / 1000)
            reset = self._resets(count)
            if reset and not self.faults.reset_after_handling:
                return Response(status=RESET_STATUS)
            injected = self._injected(count)
            if injected is not None:
                return injected
        handler, params = self._find(request)
        if handler is None:
            return self.not_found(request)
        request.params = params
        if not control:
            denied = self.authenticate(request)
            if denied is not None:
                return denied
            endpoint = f"{request.method} {self._pattern_of(handler)}"
            with self.lock:
                self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1
        response = handler(request)
        if not control and reset:
            return Response(status=RESET_STATUS)
        if not control and self._should_lose(request, response):
            return Response(
                status=504,
                raw=b"<html><body>504 Gateway Time-out</body></html>",
                content_type="text/html",
            )
        return response

    def not_found(self, request: Request) -> Response:
        return json_response(404, {"error": "404 Not Found"})

    def _find(self, request: Request) -> tuple[Handler | None, dict[str, str]]:
        for method, pattern, fn in self.routes:
            if method != request.method:
                continue
            match = pattern.match(request.path)
            if match:
                return fn, match.groupdict()
        return None, {}

    def _pattern_of(self, handler: Handler) -> str:
        for _, pattern, fn in self.routes:
            if fn is handler:
                return pattern.pattern.strip("^$")
        return "?"

    def _injected(self, count: int) -> Response | None:
        faults = self.faults
        with self.lock:
            if faults.error_burst > 0:
                faults.error_burst -= 1
                return Response(
                    status=faults.error_status,
                    raw=b"Service Unavailable",
                    content_type="text/plain",
                )
        if faults.rate_limit_every and count % faults.rate_limit_every == 0:
            return self.rate_limited(faults.retry_after_s)
        return None

    def _resets(self, count: int) -> bool:
        every = self.faults.reset_every
        return bool(every) and count % every == 0

    def rate_limited(self, retry_after_s: int) -> Response:
        return Response(
            status=429,
            raw=b"Retry later\n",
            content_type="text/plain",
            headers={"Retry-After": str(retry_after_s)},
        )

    def _should_lose(self, request: Request, response: Response) -> bool:
        if response.status >= 300:
            return False
        key = f"{request.method} {request.path}"
        if not any(re.fullmatch(p, key) for p in self.faults.lose_response):
            return False
        with self.lock:
            self._lost_matches += 1
            return self._lost_matches % max(1, self.faults.lose_every) == 0

    def _stats(self, request: Request) -> Response:
        with self.lock:
            return json_response(
                200, {"requests": self.request_count, "by_endpoint": dict(self.by_endpoint)}
            )

    def _set_faults(self, request: Request) -> Response:
        data = request.json() or {}
        try:
            with self.lock:
                self.faults.update(data)
        except KeyError as exc:
            return json_response(400, {"error": f"unknown fault {exc.args[0]!r}"})
        return json_response(200, self.faults.__dict__)


class _Handler(BaseHTTPRequestHandler):
    app: App
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without TCP_NODELAY, Nagle holds the body
    # until the client's delayed ACK (~40 ms a request on loopback).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = self.app.dispatch(request)
        except Exception as exc:
            response = json_response(500, {"message": f"500 Internal Server Error ({exc})"})
        if response.status == RESET_STATUS:
            self._reset()
            return
        payload = response.payload()
        try:
            self.send_response(response.status)
            if payload or response.status not in (204, 304):
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)
        except ConnectionError:
            # The client gave up (its timeout) before the answer: like a real server,
            # drop the connection quietly instead of printing a traceback.
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST: the client gets no answer at all."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class Server:
    """Runs an App on loopback in a background thread (`with Server(app) as url:`)."""

    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("BoundHandler", (_Handler,), {"app": app})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.app = app
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        app.base_url = self.url
        # A short poll keeps stop() quick (serve_forever's default makes it wait 0.5 s).
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
