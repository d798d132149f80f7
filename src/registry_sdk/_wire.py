"""Helpers of the transport that hold no state.

The retry policy, scope inference, NO_PROXY matching, capped body reads, and the
plain-language names of connection failures.
"""

from __future__ import annotations

import logging

import urllib3
from urllib3.exceptions import HTTPError as _Urllib3Error
from urllib3.exceptions import ProtocolError

from registry_sdk._errors import InvalidResponse, TransportError
from registry_sdk._redact import redact_url

__all__ = [
    "REASONS",
    "bypassed_by_no_proxy",
    "default_retries",
    "read_capped",
]

log = logging.getLogger("registry_sdk.transport")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def default_retries() -> urllib3.Retry:
    """Retries for 429/5xx and connection errors: capped, jittered, honouring Retry-After.

    Never for 401 (that is the auth flow's job), never for redirects (handled here) and
    never for TLS or protocol failures (`other=0`), which do not heal by waiting.
    """
    return urllib3.Retry(
        total=4, connect=3, read=2, redirect=False, status=3, other=0,
        status_forcelist=_RETRY_STATUSES, backoff_factor=0.5, backoff_max=10.0,
        backoff_jitter=0.5, respect_retry_after_header=True, raise_on_status=False,
        allowed_methods=urllib3.Retry.DEFAULT_ALLOWED_METHODS,
    )


REASONS = {
    "NewConnectionError": "cannot connect (refused, or host unreachable)",
    "NameResolutionError": "cannot resolve the host name",
    "SSLError": "TLS failed (certificate not trusted, or the registry speaks plain http)",
    "ProtocolError": "connection broken",
    "ProxyError": "the proxy refused or failed the connection",
    "ResponseError": "too many error responses",
}
def bypassed_by_no_proxy(host: str, port: int | None, no_proxy: str) -> bool:
    """NO_PROXY matching: `*`, exact hosts, `host:port`, and domain suffixes."""
    host = host.lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (
            entry, "", "")
        if entry_port and str(port) != entry_port:
            continue
        name = name.strip("[]").lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


_READ_STEP = 64 * 1024


def read_capped(resp: urllib3.BaseHTTPResponse, limit: int, what: str, *, method: str = "",
                url: str = "") -> bytes:
    """Read a body of at most *limit* bytes (security rule 5), in small steps.

    An oversized body is not drained: the connection is closed. A connection broken while
    reading becomes a TransportError. One `read(limit)` would make http.client allocate a
    buffer of the whole limit for every response, so the body is read in 64 KiB steps.
    """
    parts: list[bytes] = []
    size = 0
    length = resp.headers.get("Content-Length", "")
    known = int(length) if length.isdigit() else None
    oversized = known is not None and known > limit
    try:
        if known is not None and not oversized:
            # One exact read; urllib3 enforces the length (short bodies raise).
            data = resp.read(known) if known else b""
            if len(data) != known:
                raise ProtocolError(f"body ended after {len(data)} of {known} bytes")
            parts.append(data)
            size = known
        while known is None and (chunk := resp.read(min(_READ_STEP, limit + 1 - size))):
            parts.append(chunk)
            size += len(chunk)
    except _Urllib3Error as exc:
        resp.close()
        raise TransportError(f"{method} {redact_url(url)}: connection broken while reading "
                             f"the {what}", method=method, url=url) from exc
    if oversized or size > limit:
        resp.close()  # never drain an oversized body
        resp.release_conn()
        raise InvalidResponse(f"{what} is larger than {limit} bytes", what=what)
    resp.release_conn()
    return b"".join(parts)
