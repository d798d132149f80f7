"""Sans-IO pieces of the registry token protocol.

Realm validation, token requests, token responses and the token cache. Nothing here
opens a socket.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from registry_sdk._errors import SecurityError, TokenExchangeError

#: Token responses larger than this are refused (security rule 5).
TOKEN_BODY_LIMIT = 64 * 1024
DEFAULT_EXPIRES_IN = 60
#: Refresh this many seconds before a token expires.
REFRESH_MARGIN = 5.0
CLIENT_ID = "registry-sdk"


def is_loopback_host(host: str) -> bool:
    """Whether *host* (no port; IPv6 may be bracketed) is a loopback name or address."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def validate_realm(realm: str, registry_url: str) -> str:
    """Check a bearer realm against security rule 3 and return it resolved.

    The realm must be https unless the registry itself is plain http; it must not be a
    link-local, unspecified or multicast address (cloud metadata services live there);
    a private or loopback literal is allowed only on the registry's own host.

    Raises:
        SecurityError: with rule `realm`; nothing has been sent.
    """
    realm_parts, reg_parts = urlsplit(realm), urlsplit(registry_url)
    if realm_parts.scheme not in ("https", "http") or not realm_parts.hostname:
        raise SecurityError("token realm is not an absolute http(s) URL", rule="realm",
                            url=realm)
    if realm_parts.scheme == "http" and reg_parts.scheme != "http":
        raise SecurityError("token realm downgrades an https registry to plain http",
                            rule="realm", url=realm)
    ip = _ip(realm_parts.hostname)
    if ip is not None:
        if ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved:
            raise SecurityError(f"token realm points at a forbidden address {ip}",
                                rule="realm", url=realm)
        if (ip.is_private or ip.is_loopback) and realm_parts.hostname != reg_parts.hostname:
            raise SecurityError(
                f"token realm points at private address {ip} that is not the registry's host",
                rule="realm", url=realm)
    return realm


@attrs.frozen
class HTTPRequest:
    """A request to send (method, URL, headers, body); built without I/O."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def token_get(realm: str, service: str | None, scopes: Iterable[str], *,
              username: str = "", password: str = "") -> HTTPRequest:
    """`GET realm?service=…&scope=…` with Basic credentials (only to the realm)."""
    parts = urlsplit(realm)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "scope"]
    if service:
        query = [(k, v) for k, v in query if k != "service"] + [("service", service)]
    query += [("scope", s) for s in scopes]
    if username:
        query.append(("account", username))
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    headers = (("Authorization", _basic(username, password)),) if username else ()
    return HTTPRequest("GET", url, headers)


def token_post(realm: str, service: str | None, scopes: Iterable[str], *,
               refresh_token: str = "", username: str = "",
               password: str = "") -> HTTPRequest:
    """OAuth2 `POST realm` with `grant_type=refresh_token` (or `password`)."""
    form = [("grant_type", "refresh_token" if refresh_token else "password"),
            ("client_id", CLIENT_ID)]
    if service:
        form.append(("service", service))
    if refresh_token:
        form.append(("refresh_token", refresh_token))
    else:
        form += [("username", username), ("password", password), ("access_type", "offline")]
    form.append(("scope", " ".join(scopes)))
    return HTTPRequest("POST", realm,
                       (("Content-Type", "application/x-www-form-urlencoded"),),
                       urlencode(form).encode())


@attrs.frozen(repr=False)
class Token:
    """A bearer token with its expiry (monotonic seconds) and optional refresh token."""

    value: str
    expires_at: float
    refresh_token: str = ""

    def __repr__(self) -> str:
        return f"Token(expires_at={self.expires_at:.0f}, refresh={bool(self.refresh_token)})"

    def fresh(self, now: float) -> bool:
        """Whether the token is still usable, with the refresh margin."""
        return now < self.expires_at - REFRESH_MARGIN


def parse_token_response(body: bytes, *, realm: str, registry: str, now: float) -> Token:
    """Parse a token response; the body is never echoed in errors (security rule 4)."""
    if len(body) > TOKEN_BODY_LIMIT:
        raise TokenExchangeError("token response too large", registry=registry, realm=realm)
    try:
        doc = json.loads(body)
    except ValueError:
        raise TokenExchangeError("token response is not JSON", registry=registry,
                                 realm=realm) from None
    if not isinstance(doc, dict):
        raise TokenExchangeError("token response is not a JSON object", registry=registry,
                                 realm=realm)
    value = doc.get("access_token") or doc.get("token")
    if not isinstance(value, str) or not value:
        raise TokenExchangeError("token server did not include a token in its response",
                                 registry=registry, realm=realm)
    expires_in = doc.get("expires_in")
    lifetime = expires_in if isinstance(expires_in, int | float) else DEFAULT_EXPIRES_IN
    refresh = doc.get("refresh_token")
    return Token(value, now + max(float(lifetime), DEFAULT_EXPIRES_IN),
                 refresh if isinstance(refresh, str) else "")


CacheKey = tuple[str, str, str, frozenset[str], object]


class TokenCache:
    """Tokens by (registry, realm, service, scope set, credential identity).

    `get_or_fetch` runs at most one exchange per key at a time, however many threads
    ask; the others wait for its result.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[CacheKey, Token] = {}
        self._locks: dict[CacheKey, threading.Lock] = {}
        self._guard = threading.Lock()
        self.exchanges = 0

    def now(self) -> float:
        """The cache's clock (monotonic seconds)."""
        return self._clock()

    def get(self, key: CacheKey) -> Token | None:
        """A fresh token for *key*, else None."""
        token = self._tokens.get(key)
        return token if token is not None and token.fresh(self._clock()) else None

    def invalidate(self, key: CacheKey, value: str | None = None) -> None:
        """Forget the token for *key* (after the registry rejected it).

        With *value*, only that token is forgotten: when many threads had the same token
        rejected, the first refreshes it and the others keep the new one (no herd).
        """
        with self._guard:
            current = self._tokens.get(key)
            if current is not None and (value is None or current.value == value):
                del self._tokens[key]

    def get_or_fetch(self, key: CacheKey, fetch: Callable[[], Token]) -> Token:
        """A fresh token for *key*, fetching it (once, under a per-key lock) if needed."""
        token = self.get(key)
        if token is not None:
            return token
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            token = self.get(key)
            if token is None:
                token = fetch()
                self.exchanges += 1
                self._tokens[key] = token
            return token
