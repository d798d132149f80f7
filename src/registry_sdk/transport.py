"""`Transport`: every request to one registry, authenticated transparently.

```python
from registry_sdk import Basic, Repository
from registry_sdk.errors import check_error
from registry_sdk.transport import Transport

repo = Repository.parse("ghcr.io/org/app")
t = Transport(repo.registry, Basic("me", "pw"), [repo.scope("pull")])
resp = t.request("GET", t.url(f"/v2/{repo.path}/tags/list"))
check_error(resp)
```

Challenge-driven: the first 401 teaches the transport the registry's realm and service;
later requests fetch their token up front. A 401 merges the challenge's scopes, exchanges
once and retries once. Tokens are cached by registry, realm, service, scope set and
credential identity. This is the only module that sends HTTP requests.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urljoin, urlsplit

import attrs
import urllib3
from urllib3.exceptions import HTTPError as _Urllib3Error
from urllib3.exceptions import NewConnectionError as _Refused
from urllib3.exceptions import TimeoutError as _Urllib3Timeout

from registry_sdk import _token as T
from registry_sdk._check import preloaded_body
from registry_sdk._redact import redact_url
from registry_sdk._wire import (
    REASONS,
    bypassed_by_no_proxy,
    default_retries,
    read_capped,
)
from registry_sdk.authn import ANONYMOUS, Authenticator, Credentials
from registry_sdk.challenge import Challenge, parse_challenges, pick_challenge
from registry_sdk.errors import (
    InvalidChallenge,
    InvalidResponse,
    SecurityError,
    TokenExchangeError,
    TransportError,
    TransportTimeout,
)
from registry_sdk.name import DOCKER_HUB, Registry
from registry_sdk.scope import Scope, merge_scopes, scope_for_request

__all__ = [
    "DEFAULT_TIMEOUT",
    "RegistryState",
    "Transport",
    "default_retries",
    "read_capped",
    "scope_for_request",
]

log = logging.getLogger("registry_sdk.transport")
DEFAULT_TIMEOUT = urllib3.Timeout(connect=10.0, read=60.0)
MAX_REDIRECTS = 10
_FALLBACK_STATUSES = frozenset({400, 404, 405})
try:
    _VERSION = version("registry-sdk")
except PackageNotFoundError:  # pragma: no cover
    _VERSION = "0"


@attrs.define
class RegistryState:
    """What one registry taught us: its challenge (scheme, realm, service)."""

    challenge: Challenge | None = None


def _api_host(registry: Registry) -> str:
    return "registry-1.docker.io" if registry.name == DOCKER_HUB else registry.name


class Transport:
    """Sends requests to one registry, authenticating them transparently.

    Args:
        registry: the registry (or its name).
        authenticator: where credentials come from (called at each token exchange).
        scopes: the scopes requests will need (e.g. `repo.scope("pull")`).
        pool: a urllib3 PoolManager to share; one is created otherwise.
        retries: a urllib3 `Retry` (default [default_retries][]).
        timeout: a urllib3 `Timeout` (default 10 s connect, 60 s read).
        user_agent: added in front of `registry-sdk/VERSION`.
        insecure: allow plain http to this (non-loopback) registry; `url()` uses http.
        ca_certs: a CA bundle file for TLS verification (verification is always on).
        token_cache, state: shared by a Client across its transports.
        oauth_password: exchange a username and password with the OAuth2 `password`
            grant (POST) instead of the GET token flow.
    """

    def __init__(
        self,
        registry: Registry | str,
        authenticator: Authenticator = ANONYMOUS,
        scopes: Iterable[Scope] = (),
        *,
        pool: urllib3.PoolManager | None = None,
        retries: urllib3.Retry | None = None,
        timeout: urllib3.Timeout | None = None,
        user_agent: str | None = None,
        insecure: bool = False,
        ca_certs: str | None = None,
        token_cache: T.TokenCache | None = None,
        state: RegistryState | None = None,
        oauth_password: bool = False,
    ) -> None:
        self.registry = registry if isinstance(registry, Registry) else Registry.parse(registry)
        self.authenticator = authenticator
        self.scopes = merge_scopes(scopes)
        self.insecure = insecure
        self._pool = pool or urllib3.PoolManager(ca_certs=ca_certs, cert_reqs="CERT_REQUIRED")
        self._retries = retries or default_retries()
        self._timeout = timeout or DEFAULT_TIMEOUT
        agent = f"registry-sdk/{_VERSION}"
        self.user_agent = f"{user_agent} {agent}" if user_agent else agent
        self._cache = token_cache or T.TokenCache()
        self._state = state or RegistryState()
        self._lock = threading.Lock()
        self._host = _api_host(self.registry)
        self._refresh_token = ""
        self._oauth_password = oauth_password
        self._ca_certs = ca_certs
        self._proxies: dict[str, urllib3.ProxyManager] = {}
        self._needed_cache: dict[tuple[str, str], tuple[Scope, ...]] = {}
        # Read once: scanning os.environ on every request costs more than the request.
        self._proxy_env = urllib.request.getproxies_environment()

    def __repr__(self) -> str:
        return f"Transport({self.registry.name!r}, scopes={[str(s) for s in self.scopes]})"

    @property
    def base_url(self) -> str:
        """`https://host[:port]` (http when the registry is marked insecure)."""
        return f"{'http' if self.insecure else 'https'}://{self._host}"

    def url(self, path: str) -> str:
        """An absolute URL on this registry for *path* (e.g. `/v2/`)."""
        return self.base_url + path

    # ----------------------------------------------------------------- sending

    def _check_plain_http(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "http" and not self.insecure and not T.is_loopback_host(
                parts.hostname or ""):
            raise SecurityError(
                f"refusing plain http to {parts.netloc}: not loopback and not marked insecure",
                rule="plain-http", url=url)

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or the proxy HTTPS_PROXY / HTTP_PROXY name for *url*.

        NO_PROXY is honoured as docker and requests read it. The environment is read
        when the transport is created.
        """
        proxies = self._proxy_env
        if not proxies:
            return self._pool
        parts = urlsplit(url)
        proxy = proxies.get(parts.scheme)
        no_proxy = proxies.get("no", "")
        if not proxy or bypassed_by_no_proxy(parts.hostname or "", parts.port, no_proxy):
            return self._pool
        manager = self._proxies.get(proxy)
        if manager is None:
            manager = urllib3.ProxyManager(proxy, ca_certs=self._ca_certs,
                                           cert_reqs="CERT_REQUIRED")
            self._proxies[proxy] = manager
        return manager

    def _send_once(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
                   preload: bool) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool_for(url).request(method, url, headers=headers, body=body,
                                      retries=self._retries, timeout=self._timeout,
                                      redirect=False, preload_content=preload)
        except _Urllib3Error as exc:
            # urllib3's own message can embed the full URL (and its secrets): never echo it.
            reason = getattr(exc, "reason", None) or exc
            # NewConnectionError subclasses ConnectTimeoutError in urllib3: refused is not
            # a timeout, so it is checked first.
            if isinstance(reason, _Urllib3Timeout) and not isinstance(reason, _Refused):
                raise TransportTimeout(f"{method} {redact_url(url)}: timed out",
                                       method=method, url=url) from exc
            hint = REASONS.get(type(reason).__name__, type(reason).__name__)
            raise TransportError(f"{method} {redact_url(url)}: {hint}", method=method,
                                 url=url) from exc

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
              preload: bool) -> tuple[urllib3.BaseHTTPResponse, str]:
        """Send, following redirects; returns the response and the URL that answered.

        `Authorization` never crosses to another host.
        """
        origin = urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            self._check_plain_http(url)
            resp = self._send_once(method, url, headers, body, preload)
            if log.isEnabledFor(logging.DEBUG):  # redacting costs more than a cheap request
                log.debug("%s %s -> %s%s", method, redact_url(url), resp.status,
                          " (with credentials)" if "Authorization" in headers else "")
            location = resp.headers.get("Location")
            if resp.status not in (301, 302, 303, 307, 308) or not location:
                return resp, url
            resp.drain_conn()
            url = urljoin(url, location)
            if urlsplit(url).netloc != origin:
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if resp.status == 303:
                method, body = "GET", None
        raise TransportError(f"{method} {redact_url(url)}: too many redirects", method=method,
                             url=url)

    # ------------------------------------------------------------------- tokens

    def _key(self, challenge: Challenge, scopes: tuple[Scope, ...],
             creds: Credentials) -> T.CacheKey:
        # The credentials object itself (hashable, repr hides secrets) identifies them:
        # cheaper than hashing them for every request, and never printed.
        return (self.registry.name, challenge.realm or "", challenge.service or "",
                frozenset(map(str, scopes)), creds)

    def _exchange(self, challenge: Challenge, scopes: tuple[Scope, ...],
                  creds: Credentials) -> T.Token:
        realm = T.validate_realm(urljoin(self.base_url + "/", challenge.realm or ""),
                                 self.base_url)
        wire = [str(s) for s in scopes]
        refresh = self._refresh_token or creds.identity_token
        req: T.HTTPRequest | None = None
        resp: urllib3.BaseHTTPResponse | None = None
        if refresh or (self._oauth_password and creds.username):
            req = T.token_post(realm, challenge.service, wire, refresh_token=refresh,
                               username=creds.username, password=creds.password)
            resp, _ = self._send(req.method, req.url, {**dict(req.headers), "User-Agent":
                                                       self.user_agent}, req.body, False)
            if resp.status in _FALLBACK_STATUSES:
                resp.drain_conn()
                log.debug("token POST answered %s; falling back to GET", resp.status)
                req = None
        if req is None:
            req = T.token_get(realm, challenge.service, wire, username=creds.username,
                              password=creds.password)
            resp, _ = self._send(req.method, req.url, {**dict(req.headers), "User-Agent":
                                                       self.user_agent}, None, False)
        if resp is None or resp.status != 200:
            if resp is not None:
                resp.drain_conn()
            raise TokenExchangeError(
                f"token server {redact_url(realm)} answered "
                f"{resp.status if resp else 'nothing'} for {' '.join(wire) or 'no scope'}",
                registry=self.registry.name, realm=realm,
                status=resp.status if resp else None)
        try:
            body = read_capped(resp, T.TOKEN_BODY_LIMIT, "token response", method=req.method,
                               url=realm)
        except InvalidResponse as exc:  # too large: still a failed token exchange
            raise TokenExchangeError(exc.message, registry=self.registry.name, realm=realm,
                                     status=resp.status) from None
        token = T.parse_token_response(body, realm=realm, registry=self.registry.name,
                                       now=self._cache.now())
        if token.refresh_token and token.refresh_token != refresh:
            self._refresh_token = token.refresh_token  # rotation: keep the newest
        log.debug("token for %s from %s (%s)", self.registry.name, redact_url(realm),
                  " ".join(wire))
        return token

    def _authorization(self, scopes: tuple[Scope, ...], *,
                       rejected: str | None = None) -> str | None:
        creds = self.authenticator.authorization()
        if creds.registry_token:
            return f"Bearer {creds.registry_token}"
        challenge = self._state.challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return None if creds.is_anonymous else T._basic(creds.username, creds.password)
        key = self._key(challenge, scopes, creds)
        if rejected and rejected.startswith("Bearer "):
            self._cache.invalidate(key, rejected[len("Bearer "):])
        token = self._cache.get_or_fetch(key, lambda: self._exchange(challenge, scopes, creds))
        return f"Bearer {token.value}"

    def _learn(self, resp: urllib3.BaseHTTPResponse) -> Challenge | None:
        values = resp.headers.getlist("WWW-Authenticate")
        try:
            challenge = pick_challenge(parse_challenges(values))
        except InvalidChallenge:
            log.debug("unparsable WWW-Authenticate from %s", self.registry.name)
            return None
        if challenge is not None and (challenge.scheme == "basic" or challenge.realm):
            with self._lock:
                self._state.challenge = challenge
            return challenge
        return None

    # ------------------------------------------------------------------ request

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        preload_content: bool = True,
        scopes: Iterable[Scope] = (),
    ) -> urllib3.BaseHTTPResponse:
        """Send *method* *url* with authentication; returns the urllib3 response.

        Check the status with [check_error][registry_sdk.errors.check_error]. Extra
        *scopes* are merged with the transport's for this request.

        Raises:
            SecurityError, TransportError, TransportTimeout, TokenExchangeError. A refusal
            the flow cannot fix (a second 401) is returned as the response.
        """
        if urlsplit(url).netloc != self._host:
            raise SecurityError(f"{urlsplit(url).netloc} is not this transport's registry "
                                f"{self._host}", rule="cross-host", url=url)
        need = self._needed(method, url, scopes)
        base = {"User-Agent": self.user_agent, **(headers or {})}
        auth = self._authorization(need)
        sent = {**base, "Authorization": auth} if auth else base
        resp, answered = self._send(method, url, sent, body, preload_content)
        # Only the registry itself may teach a challenge: a 401 from a redirect target
        # (blob storage, a CDN) is returned as it is, and no credential goes its way.
        if urlsplit(answered).netloc != self._host:
            return resp
        retry = self._retry_scopes(resp, need, sent=auth)
        if retry is None:
            return resp
        new_auth = self._authorization(retry, rejected=auth)
        if new_auth is None or new_auth == auth:  # nothing better to offer than the refused
            return resp
        resp.drain_conn()
        return self._send(method, url, {**base, "Authorization": new_auth}, body,
                          preload_content)[0]

    def _needed(self, method: str, url: str, extra: Iterable[Scope]) -> tuple[Scope, ...]:
        """Scopes for this request.

        Inferred from it, plus declared ones on the same resource, plus *extra*; the
        declared scopes when nothing can be inferred.
        """
        extra = tuple(extra)
        key = (method, urlsplit(url).path)
        cached = None if extra else self._needed_cache.get(key)
        if cached is not None:
            return cached
        inferred = scope_for_request(method, url)
        if inferred is None:
            need = merge_scopes([*self.scopes, *extra])
        else:
            same = [s for s in self.scopes if s.resource == inferred.resource]
            need = merge_scopes([inferred, *same, *extra])
        if not extra and len(self._needed_cache) < 4096:
            self._needed_cache[key] = need
        return need

    def _retry_scopes(self, resp: urllib3.BaseHTTPResponse, need: tuple[Scope, ...], *,
                      sent: str | None) -> tuple[Scope, ...] | None:
        """The scopes to retry with after *resp*, or None when no retry is due."""
        sent_bearer = bool(sent and sent.startswith("Bearer "))
        sent_basic = bool(sent and sent.startswith("Basic "))
        if resp.status == 401:
            challenge = self._learn(resp)
            if challenge is None:
                # A 401 with no usable challenge: one forced refresh if we sent a token.
                return need if sent_bearer and self._state.challenge else None
            if challenge.scheme == "basic":
                # Retry once with credentials, unless we have none or just sent them.
                anonymous = self.authenticator.authorization().is_anonymous
                return None if anonymous or sent_basic else need
            return merge_scopes([*challenge.parsed_scopes(), *need])
        if sent_bearer and resp.status in (400, 403) and self._says_expired(resp):
            return need
        return None

    @staticmethod
    def _says_expired(resp: urllib3.BaseHTTPResponse) -> bool:
        """ECR Public answers an expired token with 400/403 "... expired" and no challenge."""
        body = preloaded_body(resp)
        return body is not None and b"expired" in body[:4096].lower()
