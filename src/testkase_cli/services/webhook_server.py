"""The HTTP side of `webhook serve`: a small threaded stdlib server in front of Receiver.

POST (any path) is a delivery; GET /health answers 200 for probes. Bodies need a
Content-Length (411 without), are bounded (413 over MAX_BODY, the body left unread
past a small drain), and a slow client times out instead of holding a thread.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testkase_cli.errors import UsageError
from testkase_cli.services.webhook import MAX_BODY, Receiver, Reply

DRAIN_LIMIT = 4 * MAX_BODY
"""An oversize body up to this size is read and dropped, so the client sees the 413."""
SOCKET_TIMEOUT_S = 15


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver
    protocol_version = "HTTP/1.1"
    server_version = "testkase-webhook"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_S
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        raw = self.headers.get("Content-Length")
        if raw is None:
            self._reply(Reply(411, {"error": "Content-Length is required"}), close=True)
            return
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            self._reply(Reply(400, {"error": "invalid Content-Length"}), close=True)
            return
        if length > MAX_BODY:
            if length <= DRAIN_LIMIT:
                self._drain(length)
            self._reply(Reply(413, {"error": f"body over {MAX_BODY} bytes"}), close=True)
            return
        body = self.rfile.read(length)
        if len(body) < length:
            self._reply(Reply(400, {"error": "the body was cut short"}), close=True)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._reply(self.receiver.handle(headers, body, client=self.client_address[0]))

    def do_GET(self) -> None:
        if self.path.split("?")[0].rstrip("/") in ("", "/health"):
            self._reply(Reply(200, {"status": "ok"}))
        else:
            self._reply(Reply(404, {"error": "not found"}))

    def _refuse(self) -> None:
        self._reply(Reply(405, {"error": "use POST"}), close=True)

    do_PUT = do_DELETE = do_PATCH = _refuse

    def _drain(self, length: int) -> None:
        left = length
        while left > 0:
            chunk = self.rfile.read(min(65536, left))
            if not chunk:
                return
            left -= len(chunk)

    def _reply(self, reply: Reply, *, close: bool = False) -> None:
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)


class WebhookServer:
    """`receiver` behind a threaded HTTP server on host:port (port 0 picks a free one)."""

    def __init__(self, receiver: Receiver, host: str, port: int) -> None:
        handler = type("BoundWebhookHandler", (_Handler,), {"receiver": receiver})
        server: type[ThreadingHTTPServer] = ThreadingHTTPServer
        if ":" in host:
            server = type("V6Server", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
        try:
            self.httpd = server((host, port), handler)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                hint="pick another --port, or stop what is using it",
            ) from exc
        self.httpd.daemon_threads = True
        bound_port = int(self.httpd.server_address[1])
        self.url = f"http://[{host}]:{bound_port}" if ":" in host else f"http://{host}:{bound_port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="testkase-webhook",
            daemon=True,
        )

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
