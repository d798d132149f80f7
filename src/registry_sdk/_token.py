"""Sans-IO pieces of the registry token protocol.

Realm validation, token requests, token responses and the token cache. Nothing here
opens a socket; the auth flow (`_flow`) strings these together.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from registry_sdk._errors import SecurityError, TokenExchangeError
from registry_sdk._http import BodyWhen, Request

#: Token responses larger than this are refused (security rule 5).
TOKEN_BODY_LIMIT = 64 * 1024
DEFAULT_EXPIRES_IN = 60
#: Refresh this many seconds before a token expires.
REFRESH_MARGIN = 5.0
CLIENT_ID = "registry-sdk"


def _bare(host: str) -> str:
    """A host without brackets or a trailing dot, lower-cased."""
    return host.strip("[]").rstrip(".").lower()


def is_loopback_host(host: str) -> bool:
    """Whether *host* (no port; IPv6 may be bracketed) is a loopback name or address."""
    host = _bare(host)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip(host)
    return ip is not None and ip.is_loopback


_NUMERIC = re.compile(r"[0-9][0-9a-fx.]*", re.ASCII)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host literal names, in any spelling a resolver accepts.

    Besides the canonical forms, inet_aton's (`127.1`, `2130706433`, `0x7f000001`,
    `0177.0.0.1`, `0`) and IPv4-mapped IPv6: urllib3 connects to those addresses, so the
    checks must see them too.
    """
    host = _bare(host)
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        if not _NUMERIC.fullmatch(host):
            return None
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


#: Characters two URL parsers may read differently (urlsplit against urllib3: `\@`).
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f]")


def validate_realm(
    realm: str, registry_url: str, *, rule: str = "realm", what: str = "token realm"
) -> str:
    """Check a token realm, or a redirect target, against rule 3.

    *registry_url* is where the registry actually answered (its scheme and host). The
    realm must be https unless the registry itself answered over plain http; it must
    not be a link-local, unspecified, multicast or reserved address (cloud metadata
    services live there); a private or loopback address, or a loopback name, is allowed
    only on the registry's own host, or when the registry is on loopback too
    (`localhost` and `127.0.0.1` are one machine).

    Raises:
        SecurityError: with *rule* (`realm`, or `redirect` for a redirect hop); nothing
            has been sent.
    """
    if _AMBIGUOUS.search(realm):
        raise SecurityError(
            f"{what} holds characters URL parsers read differently", rule=rule, url=realm
        )
    realm_parts, reg_parts = urlsplit(realm), urlsplit(registry_url)
    host = realm_parts.hostname or ""
    if realm_parts.scheme not in ("https", "http") or not host:
        raise SecurityError(f"{what} is not an absolute http(s) URL", rule=rule, url=realm)
    if realm_parts.scheme == "http" and reg_parts.scheme != "http":
        raise SecurityError(
            f"{what} downgrades an https registry to plain http", rule=rule, url=realm
        )
    registry_host = reg_parts.hostname or ""
    ip, registry_ip = _ip(host), _ip(registry_host)
    same_machine = (
        _bare(host) == _bare(registry_host)
        or (ip is not None and ip == registry_ip)
        or (is_loopback_host(host) and is_loopback_host(registry_host))
    )
    if (
        ip is not None
        and not ip.is_loopback
        and (ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved)
    ):
        raise SecurityError(f"{what} points at a forbidden address {ip}", rule=rule, url=realm)
    # Loopback, private, shared (100.64/10) and every other non-global address.
    local = is_loopback_host(host) or (ip is not None and not ip.is_global)
    if local and not same_machine:
        raise SecurityError(
            f"{what} points at local or private address {host} that is not the registry's host",
            rule=rule,
            url=realm,
        )
    return realm


def basic_authorization(username: str, password: str) -> str:
    """The `Authorization` value for Basic credentials."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def token_get(
    realm: str,
    service: str | None,
    scopes: Iterable[str],
    *,
    username: str = "",
    password: str = "",
) -> Request:
    """`GET realm?service=…&scope=…` with Basic credentials (only to the realm)."""
    parts = urlsplit(realm)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "scope"]
    if service:
        query = [(k, v) for k, v in query if k != "service"] + [("service", service)]
    query += [("scope", s) for s in scopes]
    if username:
        query.append(("account", username))
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    headers = {"Authorization": basic_authorization(username, password)} if username else {}
    return Request("GET", url, headers, budget=TOKEN_BODY_LIMIT, when=BodyWhen.ALWAYS, follow=False)


def token_post(
    realm: str,
    service: str | None,
    scopes: Iterable[str],
    *,
    refresh_token: str = "",
    username: str = "",
    password: str = "",
) -> Request:
    """OAuth2 `POST realm` with `grant_type=refresh_token` (or `password`)."""
    form = [
        ("grant_type", "refresh_token" if refresh_token else "password"),
        ("client_id", CLIENT_ID),
    ]
    if service:
        form.append(("service", service))
    if refresh_token:
        form.append(("refresh_token", refresh_token))
    else:
        form += [("username", username), ("password", password), ("access_type", "offline")]
    form.append(("scope", " ".join(scopes)))
    return Request(
        "POST",
        realm,
        {"Content-Type": "application/x-www-form-urlencoded"},
        urlencode(form).encode(),
        budget=TOKEN_BODY_LIMIT,
        when=BodyWhen.ALWAYS,
        follow=False,
    )


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
    doc: object = None
    valid = True
    try:
        doc = json.loads(body)
    except ValueError:
        valid = False  # raised outside the except: the decode error's .doc is the body
    if not valid:
        raise TokenExchangeError("token response is not JSON", registry=registry, realm=realm)
    if not isinstance(doc, dict):
        raise TokenExchangeError(
            "token response is not a JSON object", registry=registry, realm=realm
        )
    value = doc.get("access_token") or doc.get("token")
    if not isinstance(value, str) or not value:
        raise TokenExchangeError(
            "token server did not include a token in its response", registry=registry, realm=realm
        )
    expires_in = doc.get("expires_in")
    lifetime = expires_in if isinstance(expires_in, int | float) else DEFAULT_EXPIRES_IN
    refresh = doc.get("refresh_token")
    return Token(
        value,
        now + max(float(lifetime), DEFAULT_EXPIRES_IN),
        refresh if isinstance(refresh, str) else "",
    )


CacheKey = tuple[str, str, str, frozenset[str], object]


class TokenCache:
    """Tokens by (registry, realm, service, scope set, credentials).

    A store and a clock, nothing more: fetching is the driver's job. `lock(key)` hands
    a threaded driver one lock per key so that one exchange happens per key however
    many threads ask (single flight); an async driver keys its own locks the same way.
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

    def put(self, key: CacheKey, token: Token) -> None:
        """Store a token just obtained for *key*."""
        with self._guard:
            self._tokens[key] = token
            self.exchanges += 1

    def invalidate(self, key: CacheKey, value: str | None = None) -> None:
        """Forget the token for *key* (after the registry rejected it).

        With *value*, only that token is forgotten: when many threads had the same token
        rejected, the first refreshes it and the others keep the new one (no herd).
        """
        with self._guard:
            current = self._tokens.get(key)
            if current is not None and (value is None or current.value == value):
                del self._tokens[key]

    def lock(self, key: CacheKey) -> threading.Lock:
        """The lock a threaded driver holds while it exchanges a token for *key*."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
