"""What the transport needs of HTTP that holds no state.

The request and response records the auth flow speaks in, the one capped body read,
the retry policy, and the mapping of urllib3's failures to our typed errors with
exception chains that carry no secret (security rule 7).
"""

from __future__ import annotations

import enum
import ssl
from collections.abc import Mapping
from typing import Any

import attrs
import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError, ProtocolError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from registry_sdk._errors import InvalidResponse, TransportError, TransportTimeout
from registry_sdk._redact import redact_url

__all__ = [
    "REASONS",
    "BodyWhen",
    "Request",
    "Response",
    "default_retries",
    "read_capped",
    "read_upto",
    "speaks_plain_http",
    "transport_error",
]

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_READ_STEP = 64 * 1024


class BodyWhen(enum.Enum):
    """When the driver reads a response body for the flow (up to the request's budget)."""

    NEVER = "never"
    ERRORS = "errors"  # statuses >= 400 (the body is then replayed to the caller)
    ALWAYS = "always"


@attrs.frozen
class Request:
    """A request the auth flow wants sent. Built and read without I/O.

    `body` is opaque to the flow (bytes, a file or an iterable the driver sends);
    `budget` and `when` say how much of the response body the flow's next decision needs.
    `follow` says whether the driver applies the registry's redirect policy; token
    requests are not followed by the driver: the flow validates each hop itself.
    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    body: Any = attrs.field(default=None, repr=False, eq=False, hash=False)
    budget: int = 0
    when: BodyWhen = BodyWhen.NEVER
    follow: bool = True
    #: Where a seekable file body starts: the driver seeks there before every send.
    rewind: int | None = None

    def with_authorization(self, value: str | None) -> Request:
        """This request with `Authorization` set to *value* (removed when None)."""
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        if value is not None:
            headers["Authorization"] = value
        # Built directly: attrs.evolve introspects the fields on every call (hot path).
        return Request(
            self.method,
            self.url,
            headers,
            self.body,
            self.budget,
            self.when,
            self.follow,
            self.rewind,
        )

    @property
    def authorization(self) -> str | None:
        """The `Authorization` value sent, if any."""
        for name, value in self.headers.items():
            if name.lower() == "authorization":
                return value
        return None


@attrs.frozen
class Response:
    """What the flow sees of a response.

    Its status, headers, the URL that answered, and at most the requested budget of its
    body (`truncated` when there was more).
    """

    status: int
    headers: Mapping[str, str] = attrs.field(hash=False, repr=False)
    url: str
    body: bytes = attrs.field(default=b"", repr=False)
    truncated: bool = False

    def header(self, name: str) -> str | None:
        """A header's value (case-insensitive), or None."""
        value = self.headers.get(name)
        if value is not None:
            return value
        lower = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lower), None)

    def header_values(self, name: str) -> tuple[str, ...]:
        """Every value of a repeated header, in order (case-insensitive)."""
        getlist = getattr(self.headers, "getlist", None)
        if getlist is not None:
            return tuple(getlist(name))
        lower = name.lower()
        return tuple(v for k, v in self.headers.items() if k.lower() == lower)


def default_retries() -> urllib3.Retry:
    """Retries for 429/5xx and connection errors: capped, jittered, honouring Retry-After.

    Never for 401 (that is the auth flow's job), never for redirects (handled by the
    driver) and never for TLS or protocol failures (`other=0`), which do not heal by
    waiting.
    """
    return urllib3.Retry(
        total=4,
        connect=3,
        read=2,
        redirect=False,
        status=3,
        other=0,
        status_forcelist=_RETRY_STATUSES,
        backoff_factor=0.5,
        backoff_max=10.0,
        backoff_jitter=0.5,
        respect_retry_after_header=True,
        raise_on_status=False,
        allowed_methods=urllib3.Retry.DEFAULT_ALLOWED_METHODS,
    )


def read_upto(
    resp: urllib3.BaseHTTPResponse, limit: int, what: str, *, method: str = "", url: str = ""
) -> tuple[bytes, bool]:
    """Read a body up to *limit* bytes; returns it and whether there was more.

    A known length is read in one exact read; an unknown one in 64 KiB steps (one
    `read(limit)` would make http.client allocate the whole limit for every response).
    A body with more than *limit* bytes closes the connection (never drained); a whole
    body releases it. A connection broken while reading is a TransportError (raised with
    no urllib3 exception chained: its message may hold the URL).
    """
    length = resp.headers.get("Content-Length", "")
    known = int(length) if length.isdigit() else None
    parts: list[bytes] = []
    size = 0
    failure: TransportError | None = None
    try:
        if known is not None and known <= limit:
            data = resp.read(known) if known else b""
            if len(data) != known:
                raise ProtocolError(f"body ended after {len(data)} of {known} bytes")
            parts.append(data)
            size = known
        else:
            want = limit + 1
            while size < want and (chunk := resp.read(min(_READ_STEP, want - size))):
                parts.append(chunk)
                size += len(chunk)
    except (Urllib3Error, OSError):
        resp.close()
        failure = TransportError(
            f"{method} {redact_url(url)}: connection broken while reading the {what}",
            method=method,
            url=url,
        )
    if failure is not None:
        raise failure
    body = b"".join(parts)
    if size > limit:
        resp.close()  # never drain an oversized body
        resp.release_conn()
        return body[:limit], True
    resp.release_conn()
    return body, False


def read_capped(
    resp: urllib3.BaseHTTPResponse, limit: int, what: str, *, method: str = "", url: str = ""
) -> bytes:
    """Read a whole body of at most *limit* bytes (security rule 5).

    Raises:
        InvalidResponse: the body is larger (the connection is closed, not drained).
        TransportError: the connection broke while reading.
    """
    body, over = read_upto(resp, limit, what, method=method, url=url)
    if over:
        raise InvalidResponse(f"{what} is larger than {limit} bytes", what=what)
    return body


REASONS = {
    "NewConnectionError": "cannot connect (refused, or host unreachable)",
    "NameResolutionError": "cannot resolve the host name",
    "SSLError": "TLS failed (certificate not trusted, or the registry speaks plain http)",
    "ProtocolError": "connection broken",
    "ProxyError": "the proxy refused or failed the connection",
    "ResponseError": "too many error responses",
}


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def speaks_plain_http(exc: BaseException) -> bool:
    """Whether a failed https attempt shows a server answering in plain http.

    A TLS handshake against a plain-http server fails at the record layer (OpenSSL:
    wrong version number, or http request); a certificate that fails verification is a
    different failure (the server speaks TLS) and never counts.
    """
    chain = _chain(exc)
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        return False
    for e in chain:
        if isinstance(e, ssl.SSLError):
            text = str(e).upper()
            return any(
                mark in text
                for mark in (
                    "WRONG_VERSION_NUMBER",
                    "HTTP_REQUEST",
                    "RECORD_LAYER_FAILURE",
                    "PACKET_LENGTH",
                )
            )
    return False


def transport_error(exc: Urllib3Error, method: str, url: str) -> TransportError:
    """Our typed error for a urllib3 failure, built to be raised outside the except.

    urllib3's own messages embed the request URL (a pre-signed URL's signature
    included), so neither they nor the urllib3 exceptions are chained (rule 7): the
    cause is the root operating-system error (refused, reset, TLS), whose message names
    no URL.
    """
    reason = getattr(exc, "reason", None) or exc
    # NewConnectionError subclasses ConnectTimeoutError in urllib3: refused is not a
    # timeout, so it is checked first.
    if isinstance(reason, Urllib3Timeout) and not isinstance(reason, NewConnectionError):
        error: TransportError = TransportTimeout(
            f"{method} {redact_url(url)}: timed out", method=method, url=url
        )
    else:
        hint = REASONS.get(type(reason).__name__, type(reason).__name__)
        if type(reason).__name__ == "SSLError":
            hint = (
                "TLS failed: certificate not trusted (give its CA: ca_certs= or --ca-cert)"
                if any(isinstance(e, ssl.SSLCertVerificationError) for e in _chain(exc))
                else "TLS handshake failed (a registry speaking plain http must be "
                "marked insecure, unless it is on this machine)"
            )
        error = TransportError(f"{method} {redact_url(url)}: {hint}", method=method, url=url)
    root = _chain(exc)[-1]
    if isinstance(root, OSError) and not isinstance(root, Urllib3Error) and "://" not in str(root):
        error.__cause__ = root
    error.__suppress_context__ = True
    return error
