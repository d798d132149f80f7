"""The registry auth flow, without I/O: generators a driver steps (httpx's `auth_flow`).

A flow yields *steps* and receives their answers:

* a [Request][registry_sdk._http.Request]: send it; answer with a
  [Response][registry_sdk._http.Response] view (status, headers, the URL that
  answered, and as much of the body as the request's budget asked for);
* [NeedToken][registry_sdk._flow.NeedToken]: answer with a token for its key, from the
  cache or by driving its `exchange` flow (the driver owns the single-flight lock);
* [Learn][registry_sdk._flow.Learn]: what the registry taught us (its challenge, a
  rotated refresh token); the driver merges it into the shared state, answers None.

`registry_flow` returns when the last response it received is final: the driver hands
that response to the caller. `exchange_flow` returns a Token. Neither touches urllib3, a
socket, a lock or a clock other than the one it is given, so an async driver steps the
same generators (tests/unit/test_flow.py does, with asyncio).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import attrs

from registry_sdk import _token as T
from registry_sdk._credentials import Credentials
from registry_sdk._errors import InvalidChallenge, SecurityError, TokenExchangeError
from registry_sdk._http import Request, Response
from registry_sdk._redact import redact_url
from registry_sdk.challenge import Challenge, parse_challenges, pick_challenge
from registry_sdk.scope import Scope, merge_scopes

__all__ = [
    "Context",
    "Exchange",
    "Learn",
    "MAX_REDIRECTS",
    "NeedToken",
    "RegistryState",
    "Step",
    "exchange_flow",
    "registry_flow",
]

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: A token POST answered with one of these falls back to the GET flow.
_FALLBACK_STATUSES = frozenset({400, 404, 405})
#: How much of a 400/403 body the "token expired" decision looks at.
EXPIRED_WINDOW = 4096


@attrs.frozen
class RegistryState:
    """What one registry taught us, as one frozen value swapped whole by its owner.

    `challenge` and `origin` (the scheme and host whose 401 taught it, which realm
    validation compares with); `plain_http` once a loopback registry was found
    speaking plain http; `refresh_tokens`, the newest refresh token a token server
    rotated to, per identity token.
    """

    challenge: Challenge | None = None
    origin: str = ""
    plain_http: bool = False
    refresh_tokens: Mapping[Credentials, str] = attrs.field(factory=dict, repr=False)

    def _learn(self, step: Learn) -> RegistryState:
        """This state with what *step* says merged in."""
        changes: dict[str, Any] = {}
        if step.challenge is not None:
            changes.update(challenge=step.challenge, origin=step.origin)
        if step.refresh is not None:
            creds, token = step.refresh
            changes["refresh_tokens"] = {**self.refresh_tokens, creds: token}
        return attrs.evolve(self, **changes) if changes else self


@attrs.frozen
class Learn:
    """A step: the registry taught us a challenge, or a refresh token was rotated."""

    challenge: Challenge | None = None
    origin: str = ""
    refresh: tuple[Credentials, str] | None = attrs.field(default=None, repr=False)


@attrs.frozen
class Exchange:
    """Everything a token exchange needs, read once (the flow's input)."""

    registry: str
    origin: str
    challenge: Challenge
    scopes: tuple[Scope, ...]
    credentials: Credentials
    refresh_token: str = attrs.field(default="", repr=False)
    oauth_password: bool = False
    #: The clock of the cache the token will be kept in (the driver sets it).
    clock: Callable[[], float] = attrs.field(default=lambda: 0.0, eq=False, repr=False)


@attrs.frozen
class NeedToken:
    """A step: a token for `key`, from the cache, or by driving `exchange_flow(exchange)`.

    `rejected` is the token value the registry just refused, if any: the driver forgets
    it (only it, so a herd of refusals causes one refresh) before looking again.
    """

    key: T.CacheKey
    exchange: Exchange
    rejected: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class Context:
    """A registry request's inputs, read once: who, what state, which scopes."""

    registry: str
    host: str
    credentials: Credentials
    state: RegistryState
    scopes: tuple[Scope, ...]
    replayable: bool = True
    oauth_password: bool = False


Step = Request | NeedToken | Learn


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _usable_challenge(resp: Response) -> Challenge | None:
    """The challenge a 401 offers that we can answer (bearer with a realm, or basic)."""
    try:
        challenge = pick_challenge(parse_challenges(resp.header_values("WWW-Authenticate")))
    except InvalidChallenge:
        return None
    if challenge is not None and (challenge.scheme == "basic" or challenge.realm):
        return challenge
    return None


def _authorization(
    ctx: Context, state: RegistryState, scopes: tuple[Scope, ...], rejected: str | None
) -> Generator[Step, Any, str | None]:
    """The `Authorization` value to send for *scopes*, fetching a token if needed."""
    creds = ctx.credentials
    if creds.registry_token:
        return f"Bearer {creds.registry_token}"
    challenge = state.challenge
    if challenge is None:
        return None
    if challenge.scheme == "basic":
        return None if creds.is_anonymous else T.basic_authorization(creds.username, creds.password)
    key: T.CacheKey = (
        ctx.registry,
        challenge.realm or "",
        challenge.service or "",
        frozenset(map(str, scopes)),
        creds,
    )
    exchange = Exchange(
        ctx.registry,
        state.origin,
        challenge,
        scopes,
        creds,
        state.refresh_tokens.get(creds, ""),
        ctx.oauth_password,
    )
    refused = rejected[len("Bearer ") :] if rejected and rejected.startswith("Bearer ") else None
    token: T.Token = yield NeedToken(key, exchange, refused)
    return f"Bearer {token.value}"


def _retry_scopes(
    resp: Response,
    ctx: Context,
    state: RegistryState,
    sent: str | None,
    challenge: Challenge | None,
) -> tuple[Scope, ...] | None:
    """The scopes to retry with after *resp*, or None when no retry is due.

    *challenge* is the usable challenge *resp* carried, if any.
    """
    bearer_sent = bool(sent and sent.startswith("Bearer "))
    if resp.status == 401:
        if challenge is None:
            # A 401 with no usable challenge: one forced refresh if we sent a token.
            return ctx.scopes if bearer_sent and state.challenge is not None else None
        if challenge.scheme == "basic":
            # Retry once with credentials, unless we have none or just sent them.
            basic_sent = bool(sent and sent.startswith("Basic "))
            return None if ctx.credentials.is_anonymous or basic_sent else ctx.scopes
        return merge_scopes([*challenge.parsed_scopes(), *ctx.scopes])
    if (
        bearer_sent
        and resp.status in (400, 403)
        and b"expired" in resp.body[:EXPIRED_WINDOW].lower()
    ):
        return ctx.scopes  # ECR answers a stale token with 400/403 "... expired"
    return None


def registry_flow(request: Request, ctx: Context) -> Generator[Step, Any, None]:
    """Authenticate one registry request: send, learn from a 401, retry once.

    Challenge-driven: with a known challenge the token (or Basic credentials) goes with
    the first send. A 401 teaches the challenge and merges its scopes; a 401 without a
    usable challenge, or a 400/403 saying the token expired, forces one refresh. Only the
    registry's own 401 teaches anything: a response from a redirect target is final. A
    request whose body cannot be sent twice is never retried.
    """
    state = ctx.state
    auth = yield from _authorization(ctx, state, ctx.scopes, None)
    resp: Response = yield request.with_authorization(auth) if auth else request
    if urlsplit(resp.url).netloc != ctx.host:
        return  # answered by a redirect target (blob storage, a CDN): never learn from it
    challenge = _usable_challenge(resp) if resp.status == 401 else None
    if challenge is not None:
        learned = Learn(challenge, _origin(resp.url))
        yield learned
        state = state._learn(learned)
    retry = _retry_scopes(resp, ctx, state, auth, challenge)
    if retry is None or not ctx.replayable:
        return
    new_auth = yield from _authorization(ctx, state, retry, auth)
    if new_auth is None or new_auth == auth:
        return  # nothing better to offer than what was refused
    yield request.with_authorization(new_auth)


def _follow(request: Request, origin: str) -> Generator[Step, Any, Response]:
    """Send a token request, validating every redirect hop as a realm (rule 3).

    Credentials never cross to another host: `Authorization` is dropped, and a request
    carrying a secret in its body (an OAuth2 POST) is refused rather than re-sent there.
    """
    for _ in range(MAX_REDIRECTS + 1):
        resp: Response = yield request
        location = resp.header("Location")
        if resp.status not in REDIRECT_STATUSES or not location:
            return resp
        target = urljoin(request.url, location)
        T.validate_realm(target, origin, rule="redirect")
        cross = urlsplit(target).netloc != urlsplit(request.url).netloc
        if resp.status == 303 or (resp.status in (301, 302) and request.method == "POST"):
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
            request = attrs.evolve(request, method="GET", url=target, headers=headers, body=None)
        elif cross and request.body is not None:
            raise SecurityError(
                "token server redirects a request whose body holds credentials to another host",
                rule="redirect",
                url=target,
            )
        else:
            request = attrs.evolve(request, url=target)
        if cross:
            request = request.with_authorization(None)
    raise SecurityError("token server redirects too many times", rule="redirect", url=request.url)


def exchange_flow(x: Exchange) -> Generator[Step, Any, T.Token]:
    """Obtain a token: OAuth2 POST (refresh token or password grant) with GET fallback.

    Raises:
        SecurityError: the realm or a redirect hop fails rule 3; nothing was sent there.
        TokenExchangeError: the token server refused, failed or answered nonsense.
    """
    realm = T.validate_realm(urljoin(x.origin + "/", x.challenge.realm or ""), x.origin)
    wire = [str(s) for s in x.scopes]
    creds = x.credentials
    refresh = x.refresh_token or creds.identity_token
    resp: Response | None = None
    if refresh or (x.oauth_password and creds.username):
        resp = yield from _follow(
            T.token_post(
                realm,
                x.challenge.service,
                wire,
                refresh_token=refresh,
                username=creds.username,
                password=creds.password,
            ),
            x.origin,
        )
        if resp.status in _FALLBACK_STATUSES:
            resp = None  # this token server has no OAuth2 POST: the GET flow
    if resp is None:
        resp = yield from _follow(
            T.token_get(
                realm, x.challenge.service, wire, username=creds.username, password=creds.password
            ),
            x.origin,
        )
    what = f" for {' '.join(wire)}" if wire else ""
    if resp.status in (401, 403):
        hint = " (no credentials were found for this registry)" if creds.is_anonymous else ""
        raise TokenExchangeError(
            f"token server {redact_url(realm)} refused {creds.description}{what} "
            f"(status {resp.status}){hint}",
            registry=x.registry,
            realm=realm,
            status=resp.status,
            username=creds.username,
            origin=creds.origin,
        )
    if resp.status != 200:
        raise TokenExchangeError(
            f"token server {redact_url(realm)} answered {resp.status}{what}",
            registry=x.registry,
            realm=realm,
            status=resp.status,
            username=creds.username,
            origin=creds.origin,
        )
    if resp.truncated:
        raise TokenExchangeError(
            f"token response is larger than {T.TOKEN_BODY_LIMIT} bytes",
            registry=x.registry,
            realm=realm,
            status=resp.status,
        )
    token = T.parse_token_response(resp.body, realm=realm, registry=x.registry, now=x.clock())
    if token.refresh_token and token.refresh_token != refresh:
        yield Learn(refresh=(creds, token.refresh_token))  # rotation: keep the newest
    return token
