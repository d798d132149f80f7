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

The decisions (which credentials, what a 401 means, how a token is obtained) live in the
sans-IO flow of `registry_sdk._flow`; this module is its urllib3 driver: it sends, applies
the registry's redirect policy, maps failures to typed errors, chooses proxies, and owns
every lock. It is the only module that sends HTTP requests.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Generator, Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import IO, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import attrs
import urllib3
from urllib3.exceptions import HTTPError as _Urllib3Error

from registry_sdk import _token as T
from registry_sdk._check import ERROR_BODY_LIMIT, check_error
from registry_sdk._credentials import Credentials
from registry_sdk._errors import (
    ErrorCode,
    InvalidResponse,
    SecurityError,
    TransportError,
    Unauthorized,
)
from registry_sdk._flow import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    Context,
    Learn,
    NeedToken,
    RegistryState,
    Step,
    exchange_flow,
    registry_flow,
)
from registry_sdk._http import (
    BodyWhen,
    Request,
    Response,
    default_retries,
    read_upto,
    speaks_plain_http,
    transport_error,
)
from registry_sdk._proxy import Proxies
from registry_sdk._redact import redact_url
from registry_sdk._token import TokenCache
from registry_sdk.authn import ANONYMOUS, Authenticator
from registry_sdk.name import DOCKER_HUB, Registry
from registry_sdk.scope import Scope, merge_scopes, scope_for_request

__all__ = [
    "Body",
    "DEFAULT_TIMEOUT",
    "PRELOAD_LIMIT",
    "RegistryState",
    "StateStore",
    "TokenCache",
    "Transport",
    "default_retries",
]

log = logging.getLogger("registry_sdk.transport")
DEFAULT_TIMEOUT = urllib3.Timeout(connect=10.0, read=60.0)
try:
    _VERSION = version("registry-sdk")
except PackageNotFoundError:  # pragma: no cover
    _VERSION = "0"

#: What a request body may be: bytes, a binary file, or an iterable of bytes (sent once).
Body = bytes | IO[bytes] | Iterable[bytes]
_R = TypeVar("_R")
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: The largest body a request with preload_content=True reads into memory (rule 5);
#: larger ones raise InvalidResponse: stream them with preload_content=False.
PRELOAD_LIMIT = 16 * 1024 * 1024


class StateStore:
    """What each registry taught us, as frozen values swapped whole under one lock.

    A Client owns one and shares it with all its transports; a Transport made alone
    makes its own.
    """

    def __init__(self) -> None:
        self._states: dict[str, RegistryState] = {}
        self._lock = threading.Lock()

    def get(self, registry: str) -> RegistryState:
        """The current state of *registry* (an empty state if nothing was learned)."""
        return self._states.get(registry) or RegistryState()

    def _learn(self, registry: str, step: Learn) -> RegistryState:
        """Merge what *step* says into the state of *registry*; returns the new state."""
        with self._lock:
            state = self.get(registry)._learn(step)
            self._states[registry] = state
            return state

    def _speaks_plain_http(self, registry: str) -> None:
        """Remember that a loopback *registry* answers in plain http."""
        with self._lock:
            self._states[registry] = attrs.evolve(self.get(registry), plain_http=True)


# Their public home is this module (they live in the sans-IO modules).
RegistryState.__module__ = TokenCache.__module__ = __name__


def _api_host(registry: Registry) -> str:
    return "registry-1.docker.io" if registry.name == DOCKER_HUB else registry.name


def _replayable(body: object) -> bool:
    if body is None or isinstance(body, bytes | bytearray):
        return True
    seekable = getattr(body, "seekable", None)
    return bool(seekable and seekable())


class Transport:
    """Sends requests to one registry, authenticating them transparently.

    Args:
        registry: the registry (or its name).
        authenticator: where credentials come from (asked once per request).
        scopes: the scopes requests will need (e.g. `repo.scope("pull")`); scopes are
            also inferred from each request's method and path.
        pool: a urllib3 PoolManager to share; one is created otherwise.
        retries: a urllib3 `Retry` (default:
            [default_retries][registry_sdk.transport.default_retries]).
        timeout: a urllib3 `Timeout` or seconds (default 10 s connect, 60 s read).
        user_agent: added in front of `registry-sdk/VERSION`.
        insecure: allow plain http to this (non-loopback) registry; `url()` uses http.
            A loopback registry needs no flag: https is tried first, and plain http used
            when the handshake shows the server speaks it.
        ca_certs: a CA bundle file for TLS verification (verification is always on).
        token_cache: the [TokenCache][registry_sdk.transport.TokenCache] to keep tokens
            in; a Client shares one across its transports.
        state: the [StateStore][registry_sdk.transport.StateStore] of what registries
            taught (challenges, plain http, refresh tokens); shared likewise.
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
        timeout: urllib3.Timeout | float | None = None,
        user_agent: str | None = None,
        insecure: bool = False,
        ca_certs: str | None = None,
        token_cache: TokenCache | None = None,
        state: StateStore | None = None,
        oauth_password: bool = False,
    ) -> None:
        self.registry = registry if isinstance(registry, Registry) else Registry.parse(registry)
        self.authenticator = authenticator
        self.scopes = merge_scopes(scopes)
        self.insecure = insecure
        self._pool = pool or urllib3.PoolManager(ca_certs=ca_certs, cert_reqs="CERT_REQUIRED")
        self._retries = retries or default_retries()
        self._timeout = (
            urllib3.Timeout(timeout)
            if isinstance(timeout, int | float)
            else timeout or DEFAULT_TIMEOUT
        )
        agent = f"registry-sdk/{_VERSION}"
        self.user_agent = f"{user_agent} {agent}" if user_agent else agent
        self._cache = token_cache or TokenCache()
        self._store = state or StateStore()
        self._host = _api_host(self.registry)
        self._loopback = T.is_loopback_host(urlsplit(f"//{self._host}").hostname or "")
        self._oauth_password = oauth_password
        self._proxies = Proxies(self._pool, ca_certs)
        self._needed_cache: dict[tuple[str, str], tuple[Scope, ...]] = {}

    def __repr__(self) -> str:
        return f"Transport({self.registry.name!r}, scopes={[str(s) for s in self.scopes]})"

    def close(self) -> None:
        """Close this transport's proxy pools (the shared pool is its owner's to close)."""
        self._proxies.clear()

    @property
    def base_url(self) -> str:
        """`https://host[:port]`, or http for an insecure or plain-http loopback registry.

        A loopback registry is plain http once a request found it speaking plain http.
        """
        plain = self.insecure or self._store.get(self.registry.name).plain_http
        return f"{'http' if plain else 'https'}://{self._host}"

    def url(self, path: str) -> str:
        """An absolute URL on this registry for *path* (e.g. `/v2/`)."""
        return self.base_url + path

    # ------------------------------------------------------------------ request

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Body | None = None,
        preload_content: bool = True,
        scopes: Iterable[Scope] = (),
        allow_other_host: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        """Send *method* *url* with authentication; returns the urllib3 response.

        Check the status with [check_error][registry_sdk.errors.check_error]. Extra
        *scopes* are merged with the transport's for this request. *body* may be bytes,
        a binary file (re-sent from its start position when needed) or an iterable of
        bytes, which is sent once: never retried, not even after a 401 (put the
        `Content-Length` in *headers* to avoid chunked encoding). With
        *allow_other_host*, a URL on another host is sent with no credentials at all
        (rule 1), e.g. an upload location in object storage.

        A refusal the flow cannot fix (a second 401) is returned as the response.

        Raises:
            SecurityError: a rule refused the request before it was sent.
            TransportError: the connection failed (`TransportTimeout` when it timed out).
            TokenExchangeError: the token server refused or failed.
        """
        netloc = urlsplit(url).netloc
        base = {"User-Agent": self.user_agent, **(headers or {})}
        tell = getattr(body, "tell", None)
        rewind = tell() if tell is not None and _replayable(body) else None
        if netloc != self._host:
            if not allow_other_host:
                shown = urlsplit(redact_url(url)).netloc  # no userinfo password
                raise SecurityError(
                    f"{shown} is not this transport's registry {self._host}",
                    rule="cross-host",
                    url=url,
                )
            resp, _ = self._send(
                Request(method, url, base, body, rewind=rewind), preload_content, _replayable(body)
            )
            return resp
        state = self._store.get(self.registry.name)
        if state.plain_http and url.startswith("https://"):
            url = "http://" + url[len("https://") :]
        replayable = _replayable(body)
        ctx = Context(
            self.registry.name,
            self._host,
            self._credentials(),
            state,
            self._needed(method, url, scopes),
            replayable,
            self._oauth_password,
        )
        request = Request(
            method, url, base, body, budget=ERROR_BODY_LIMIT, when=BodyWhen.ERRORS, rewind=rewind
        )
        return self._drive(registry_flow(request, ctx), preload_content, replayable)

    def _credentials(self) -> Credentials:
        return self.authenticator.authorization()

    def _needed(self, method: str, url: str, extra: Iterable[Scope]) -> tuple[Scope, ...]:
        """Scopes for this request.

        Inferred from it, plus declared ones on the same resource, plus *extra*; the
        declared scopes when nothing can be inferred.
        """
        extra = tuple(extra)
        path = urlsplit(url).path
        key = (method, path)
        cached = None if extra else self._needed_cache.get(key)
        if cached is not None:
            return cached
        inferred = scope_for_request(method, path)
        if inferred is None:
            need = merge_scopes([*self.scopes, *extra])
        else:
            same = [s for s in self.scopes if s.resource == inferred.resource]
            need = merge_scopes([inferred, *same, *extra])
        if not extra and len(self._needed_cache) < 4096:
            self._needed_cache[key] = need
        return need

    def check(
        self, response: urllib3.BaseHTTPResponse, *expected: int, method: str = "", url: str = ""
    ) -> None:
        """[check_error][registry_sdk.errors.check_error], with a 401 that says who.

        The message names the URL that answered; an
        [Unauthorized][registry_sdk.errors.Unauthorized] names the user refused and where
        their credentials came from, says that they were accepted but not granted this
        access, or that none were found and the request was anonymous.
        """
        answered = response.url if response.url and "://" in response.url else url
        try:
            check_error(response, *expected, method=method, url=answered)
        except Unauthorized as exc:
            error = _refusal(exc, self)
        else:
            return
        raise error

    # ------------------------------------------------------------------ driving

    def _drive(
        self, flow: Generator[Step, Any, None], preload: bool, replayable: bool
    ) -> urllib3.BaseHTTPResponse:
        """Step a registry flow; returns the response it ends on."""
        last: urllib3.BaseHTTPResponse | None = None
        sent: Request | None = None
        loaded = False
        try:
            step = next(flow)
            while True:
                if isinstance(step, Request):
                    if last is not None:
                        last.drain_conn()  # superseded by the retry
                    raw, answered = self._send(step, False, replayable)
                    view, last = self._view(step, raw, answered, preload)
                    last.url = answered  # absolute (a pool's own answer knows only a path)
                    sent, loaded = step, last is not raw
                    step = flow.send(view)
                else:
                    step = flow.send(self._answer(step))
        except StopIteration:
            pass
        except BaseException:
            if last is not None:
                last.drain_conn()
            raise
        finally:
            flow.close()
        assert last is not None
        assert sent is not None
        if preload and not loaded:
            return self._load(last, sent, replayable)
        return last

    def _load(
        self, resp: urllib3.BaseHTTPResponse, request: Request, replayable: bool
    ) -> urllib3.BaseHTTPResponse:
        """Read a final response's body into memory, as the caller asked (capped, rule 5).

        At most PRELOAD_LIMIT bytes. A connection broken while reading is sent again
        (idempotent, replayable requests, as many times as the retry policy allows
        reads), else a TransportError.

        Raises:
            InvalidResponse: the body is larger than PRELOAD_LIMIT (stream it instead).
        """
        again = request.method in _IDEMPOTENT and replayable
        attempts = 1 + (int(self._retries.read or 0) if again else 0)
        failure: TransportError | None = None
        for attempt in range(attempts):
            loaded: urllib3.BaseHTTPResponse | None = None
            try:
                loaded = self._read_whole(resp, request)
            except TransportError as exc:
                failure = exc
            if loaded is not None:
                return loaded
            if attempt + 1 < attempts:
                resp, _ = self._send(request, False, replayable)
        assert failure is not None
        raise failure

    @staticmethod
    def _read_whole(resp: urllib3.BaseHTTPResponse, request: Request) -> urllib3.BaseHTTPResponse:
        length = resp.headers.get("Content-Length", "")
        if (
            request.method == "HEAD"
            or resp.status in (204, 304)
            or (length.isdigit() and int(length) <= PRELOAD_LIMIT)
        ):
            # The cheap path: urllib3 reads exactly the announced length.
            broken = False
            try:
                resp.read(cache_content=True)
            except (_Urllib3Error, OSError):
                resp.close()
                broken = True
            if broken:  # raised outside the except: urllib3's message holds the URL
                raise TransportError(
                    f"{request.method} {redact_url(request.url)}: "
                    "connection broken while reading the response",
                    method=request.method,
                    url=request.url,
                )
            return resp
        body, over = read_upto(
            resp, PRELOAD_LIMIT, "response body", method=request.method, url=request.url
        )
        if over:
            raise InvalidResponse(
                f"{request.method} {redact_url(request.url)}: the response body is larger "
                f"than {PRELOAD_LIMIT} bytes (stream it: preload_content=False)",
                what="response body",
            )
        return urllib3.HTTPResponse(
            body=body,
            headers=resp.headers,
            status=resp.status,
            reason=resp.reason,
            preload_content=True,
            request_method=request.method,
            request_url=getattr(resp, "url", None) or request.url,
        )

    def _answer(self, step: Step) -> object:
        """The answer to a step that is not a request: a token, or None after Learn."""
        if isinstance(step, Learn):
            self._store._learn(self.registry.name, step)
            return None
        assert isinstance(step, NeedToken)
        return self._token(step)

    def _token(self, step: NeedToken) -> T.Token:
        """A token for the step's key: cached, or exchanged once under the key's lock."""
        cache, key = self._cache, step.key
        token = None if step.rejected else cache.get(key)
        if token is not None:
            return token
        with cache.lock(key):
            if step.rejected:
                cache.invalidate(key, step.rejected)
            token = cache.get(key)
            if token is None:
                # The state may have changed while we waited (a rotated refresh token).
                state = self._store.get(self.registry.name)
                refresh = state.refresh_tokens.get(
                    step.exchange.credentials, step.exchange.refresh_token
                )
                token = self._run(
                    exchange_flow(
                        attrs.evolve(step.exchange, refresh_token=refresh, clock=cache.now)
                    )
                )
                cache.put(key, token)
                log.debug(
                    "token for %s (%s)",
                    self.registry.name,
                    " ".join(str(s) for s in step.exchange.scopes),
                )
        return token

    def _run(self, flow: Generator[Step, Any, _R]) -> _R:
        """Step a token exchange flow to its result.

        Token requests are not redirected by the driver: the flow validates each hop.
        """
        try:
            step = next(flow)
            while True:
                if isinstance(step, Request):
                    raw, answered = self._send(step, False, True)
                    view, _ = self._view(step, raw, answered, False)
                    step = flow.send(view)
                else:
                    step = flow.send(self._answer(step))
        except StopIteration as done:
            result: _R = done.value
            return result
        finally:
            flow.close()

    def _view(
        self, request: Request, raw: urllib3.BaseHTTPResponse, answered: str, preload: bool
    ) -> tuple[Response, urllib3.BaseHTTPResponse]:
        """The flow's view of *raw*, and the response to keep (replayed when read)."""
        wanted = request.when is BodyWhen.ALWAYS or (
            request.when is BodyWhen.ERRORS and raw.status >= 400
        )
        if not wanted or request.method == "HEAD":
            return Response(raw.status, raw.headers, answered), raw
        body, truncated = read_upto(
            raw, request.budget, "response body", method=request.method, url=answered
        )
        replay = urllib3.HTTPResponse(
            body=body if preload else io.BytesIO(body),
            headers=raw.headers,
            status=raw.status,
            reason=raw.reason,
            preload_content=preload,
            request_method=request.method,
            request_url=answered,
        )
        return Response(raw.status, raw.headers, answered, body, truncated), replay

    # ------------------------------------------------------------------ sending

    def _check_plain_http(self, url: str) -> None:
        parts = urlsplit(url)
        if (
            parts.scheme == "http"
            and not self.insecure
            and not T.is_loopback_host(parts.hostname or "")
        ):
            shown = urlsplit(redact_url(url)).netloc  # no userinfo password
            raise SecurityError(
                f"refusing plain http to {shown}: not loopback and not marked insecure",
                rule="plain-http",
                url=url,
            )

    def _send(
        self, request: Request, preload: bool, replayable: bool
    ) -> tuple[urllib3.BaseHTTPResponse, str]:
        """Send, following redirects when the request asks.

        Returns the response and the URL that answered. `Authorization` never crosses
        to another host.
        """
        method, url, headers, body, rewind = (
            request.method,
            request.url,
            dict(request.headers),
            request.body,
            request.rewind,
        )
        origin = urlsplit(url).netloc
        sending = request
        for _ in range(MAX_REDIRECTS + 1):
            self._check_plain_http(url)
            resp, url = self._send_once(sending, preload, replayable)
            if log.isEnabledFor(logging.DEBUG):  # redacting costs more than a cheap request
                log.debug(
                    "%s %s -> %s%s",
                    method,
                    redact_url(url),
                    resp.status,
                    " (with credentials)" if "Authorization" in headers else "",
                )
            if not request.follow or resp.status not in REDIRECT_STATUSES:
                return resp, url
            location = resp.headers.get("Location")
            if not location:
                return resp, url
            resp.drain_conn()
            answered = url
            url = urljoin(url, location)
            if urlsplit(url).netloc != origin:
                # Another host: never credentials (rule 1), and checked like a realm
                # (rule 3): a registry elsewhere cannot aim this request, its method and
                # body, at local services, private or metadata addresses, or plain http.
                T.validate_realm(url, answered, rule="redirect", what="redirect target")
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if resp.status == 303:
                method, body, rewind = "GET", None, None
            sending = Request(method, url, headers, body, rewind=rewind)
        raise TransportError(
            f"{method} {redact_url(url)}: too many redirects", method=method, url=url
        )

    def _send_once(
        self, request: Request, preload: bool, replayable: bool
    ) -> tuple[urllib3.BaseHTTPResponse, str]:
        """One request and urllib3's retries; returns the response and the URL used.

        A loopback registry not marked insecure is tried over https first; when the
        handshake shows the server speaks plain http, the request goes over http and the
        registry is remembered as plain (never for any other host, and never when a
        certificate merely fails to verify).
        """
        method, url = request.method, request.url
        retries: urllib3.Retry | bool = self._retries if replayable else False
        on_registry = url.startswith("https://") and urlsplit(url).netloc == self._host
        if on_registry and self._store.get(self.registry.name).plain_http:
            url = "http://" + url[len("https://") :]  # learned since the flow built it
            on_registry = False
        try:
            return self._urlopen(request, url, preload, retries), url
        except _Urllib3Error as exc:
            error = transport_error(exc, method, url)
            fall_back = (
                on_registry and self._loopback and not self.insecure and speaks_plain_http(exc)
            )
        if not fall_back:
            raise error
        plain = "http://" + url[len("https://") :]
        try:
            resp = self._urlopen(request, plain, preload, retries)
        except _Urllib3Error:
            resp = None
        if resp is None:
            raise error  # not plain http either: the TLS failure is the one to report
        self._store._speaks_plain_http(self.registry.name)
        log.debug("%s answers in plain http: using http for it from now on", self._host)
        return resp, plain

    def _urlopen(
        self, request: Request, url: str, preload: bool, retries: urllib3.Retry | bool
    ) -> urllib3.BaseHTTPResponse:
        if request.rewind is not None:
            request.body.seek(request.rewind)  # every attempt sends the whole body
        return self._proxies.pool_for(url).request(
            request.method,
            url,
            headers=dict(request.headers),
            body=request.body,
            retries=retries,
            timeout=self._timeout,
            redirect=False,
            preload_content=preload,
        )


def _refusal(exc: Unauthorized, t: Transport) -> Unauthorized:
    """A 401 restated with who was refused, never a secret."""
    creds = t.authenticator.authorization()
    detail = "; ".join(str(d) for d in exc.diagnostics) or "authentication required"
    where = " ".join(p for p in (exc.method, exc.url) if p)
    if creds.is_anonymous:
        message = (
            f"{where}: {t.registry} requires authentication, and no credentials "
            f"were found for it (the request was anonymous; log in with "
            f"`registry-sdk login` or `docker login`): {detail}"
        )
    elif ErrorCode.DENIED in exc.codes:
        message = (
            f"{where}: {t.registry} accepted {creds.description} but did not grant "
            f"this access (pull, push or delete on the repository): {detail}"
        )
    else:
        message = f"{where}: {t.registry} refused {creds.description}: {detail}"
    return Unauthorized(
        message,
        status=exc.status,
        diagnostics=exc.diagnostics,
        method=exc.method,
        url=exc.url,
        retry_after=exc.retry_after,
        registry=t.registry.name,
        username=creds.username,
        origin=creds.origin,
    )
