"""A tiny scripted HTTP server on 127.0.0.1, for what a real registry cannot show
(wrong digests, Link loops, links to other hosts, oversized bodies, faults).

Routes map (method, path) to a function returning (status, headers, body); every
request is recorded with its headers.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

Reply = tuple[int, Mapping[str, str], bytes]
Route = Callable[["Seen"], Reply]


@attrs.frozen
class Seen:
    """One request the fake server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@attrs.define
class FakeServer:
    """Serves *routes*; unknown paths get 404. Use as a context manager."""

    routes: dict[tuple[str, str], Route] = attrs.field(factory=dict)
    seen: list[Seen] = attrs.field(factory=list)
    fallback: Route | None = None
    ssl_context: ssl.SSLContext | None = None
    _server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT`."""
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    self.rfile.read(length) if length else b"",
                )
                fake.seen.append(seen)
                route = (
                    fake.routes.get((self.command, self.path.split("?")[0]))
                    or fake.routes.get((self.command, self.path))
                    or fake.fallback
                )
                status, headers, body = route(seen) if route else (404, {}, b"")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = _serve  # noqa: N815

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                return  # clients closing early (oversized bodies) is part of the tests

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.ssl_context is not None:
            self._server.socket = self.ssl_context.wrap_socket(
                self._server.socket, server_side=True
            )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
