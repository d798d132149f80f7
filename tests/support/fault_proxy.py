"""A fault-injecting HTTP proxy, for tests: it sits in front of the real registry or the
token server (plain http on 127.0.0.1) and applies scripted faults to matching requests.

Faults (each for the next `times` requests whose path contains `match`):

* `status`: answer with `status`, `headers` and `body` without forwarding;
* `reset`: reset the connection before any response byte (TCP RST);
* `reset_after_headers`: forward, send the headers and half the body (or `at` bytes of
  it), then reset;
* `truncate`: forward, send the headers and half the body (or `at` bytes), then close
  normally;
* `no_range`: forward without the request's `Range` header (a server that ignores it);
* `delay`: wait `seconds`, then forward;
* `body`: answer 200 with `headers` and `body` (garbage, huge, wrong shape);
* `redirect`: answer 307 to `location`.

Everything else is forwarded untouched (Host kept, so Location headers point back here).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Mapping

import attrs


@attrs.define
class Fault:
    """One scripted fault."""

    kind: str
    match: str = ""
    times: int = 1
    status: int = 500
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    location: str = ""
    at: int | None = None  # body bytes sent before a cut (default: half)


@attrs.define
class FaultProxy:
    """The proxy: `faults` is consumed in order; `seen` records (method, path, fault)."""

    upstream: tuple[str, int]
    faults: list[Fault] = attrs.field(factory=list)
    seen: list[tuple[str, str, str]] = attrs.field(factory=list)
    #: whether each seen request carried Authorization
    authorized: list[bool] = attrs.field(factory=list)
    _server: socketserver.ThreadingTCPServer | None = None
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT` of the proxy."""
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def plan(self, *faults: Fault) -> None:
        """Replace the fault plan (and forget what was seen)."""
        with self._lock:
            self.faults = list(faults)
            self.seen.clear()
            self.authorized.clear()

    def _take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.match in path:
                    fault.times -= 1
                    return fault
        return None

    def start(self) -> FaultProxy:
        """Listen on a free loopback port, serving in threads."""
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                # OSError: the client went away, or we reset the connection on purpose.
                with contextlib.suppress(OSError):
                    while proxy._serve_one(self):
                        pass

            def finish(self) -> None:
                with contextlib.suppress(OSError):
                    super().finish()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: object, client_address: object) -> None:
                return

        server = Server(("127.0.0.1", 0), Handler)
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ serving

    def _serve_one(self, h: socketserver.StreamRequestHandler) -> bool:
        line = h.rfile.readline(65536)
        if not line.strip():
            return False
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: list[tuple[str, str]] = []
        while (raw := h.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
            name, _, value = raw.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
        body = h.rfile.read(length) if length else b""
        fault = self._take(path)
        self.seen.append((method, path, fault.kind if fault else ""))
        self.authorized.append(any(k.lower() == "authorization" for k, _ in headers))
        if fault is not None and fault.kind == "reset":
            _reset(h.connection)
            return False
        if fault is not None and fault.kind in ("status", "body", "redirect"):
            status = {"body": 200, "redirect": 307}.get(fault.kind, fault.status)
            extra = dict(fault.headers)
            if fault.kind == "redirect":
                extra["Location"] = fault.location
            _write(h, status, extra, fault.body, method)
            return True
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "no_range":
            headers = [(k, v) for k, v in headers if k.lower() != "range"]
        status, reply_headers, reply = self._forward(method, path, headers, body)
        if fault is not None and fault.kind in ("reset_after_headers", "truncate"):
            head = _head(status, {**reply_headers, "Content-Length": str(len(reply))})
            cut = len(reply) // 2 if fault.at is None else fault.at
            h.connection.sendall(head + reply[:cut])
            if fault.kind == "reset_after_headers":
                _reset(h.connection)
            return False
        _write(h, status, reply_headers, reply, method)
        return True

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in ("connection", "proxy-connection"):
                    conn.putheader(name, value)
            conn.endheaders(body or None)
            resp = conn.getresponse()
            reply = resp.read()
            kept = {
                k: v
                for k, v in resp.getheaders()
                if k.lower() not in ("transfer-encoding", "connection", "content-length")
            }
            return resp.status, kept, reply
        finally:
            conn.close()


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    reason = http.client.responses.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _write(
    h: socketserver.StreamRequestHandler,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    method: str,
) -> None:
    head = _head(status, {**headers, "Content-Length": str(len(body))})
    h.connection.sendall(head + (b"" if method == "HEAD" else body))


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer sees a TCP reset, not an orderly close."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
