"""The sandbox's HTTP server: X's paths on a loopback port, plus the control API."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import api, control, pages
from .errors import bad_request, problem
from .records import SandboxAccount
from .traffic import TrafficGenerator
from .wire import Reply, Request
from .world import World

logger = logging.getLogger("helpdesk.x.sandbox")

MAX_BODY_BYTES = 64 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: XSandbox

    def server_activate(self) -> None:
        self.open_connections: set[Any] = set()
        self.connections_lock = threading.Lock()
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close kept-alive connections, so nothing is answered after stop()."""
        with self.connections_lock:
            connections = list(self.open_connections)
            self.open_connections.clear()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "XSandbox/1.0"
    timeout = 60  # idle keep-alive connections close after a minute
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.client_address[0], *args)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length)

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(Reply.from_error(bad_request("Malformed request body.")))
            return
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            client_host=str(self.client_address[0]),
        )
        try:
            if request.path.startswith("/_sandbox/"):
                reply = control.handle(sandbox.world, sandbox.traffic, request)
            elif pages.is_page(request):
                reply = pages.page(sandbox.world, request)
            else:
                reply = api.dispatch(sandbox.world, request, sandbox.stopping)
        except Exception:
            logger.exception("sandbox failed on %s %s", self.command, self.path)
            reply = Reply(500, problem(500, "Internal Server Error", "Internal Server Error"))
        if reply.delay > 0:
            sandbox.stopping.wait(reply.delay)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        payload = b""
        if reply.html is not None:
            payload = reply.html.encode("utf-8")
        elif reply.body is not None:
            payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(reply.status)
            if reply.html is not None:
                self.send_header("Content-Type", "text/html; charset=utf-8")
            elif reply.body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            logger.debug("client went away before the answer to %s %s", self.command, self.path)


class XSandbox:
    """A fake of the X API v2 subset the desk uses, served over real HTTP.

    ``XSandbox().start()`` serves on a free loopback port in a background thread;
    point tweepy at ``base_url`` with a transport adapter. Use it as a context manager in
    tests. ``traffic_rate`` (tweets per second) starts the customer traffic generator.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        traffic_rate: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.world = World(seed=seed)
        self.traffic = TrafficGenerator(self.world, rate=traffic_rate, seed=seed)
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self._server.server_address[1]}"

    def add_account(self, account: SandboxAccount) -> SandboxAccount:
        self.world.add_account(account)
        return account

    def start(self) -> XSandbox:
        if self._server is not None:
            return self
        server_class: type[_Server] = _Server6 if ":" in self.host else _Server
        self.stopping.clear()
        server = server_class((self.host, self.port), _Handler)
        server.sandbox = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="x-sandbox",
            daemon=True,
        )
        self._thread.start()
        self.traffic.start()
        logger.debug("X sandbox serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.traffic.stop()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> XSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
