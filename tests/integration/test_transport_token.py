"""Transport against distribution 2.8 in token mode, with the tests' token server."""

from __future__ import annotations

import json

import pytest

from registry_sdk._token import TokenCache
from registry_sdk.authn import ANONYMOUS, Authenticator, Basic, Credentials, IdentityToken
from registry_sdk.errors import ErrorCode, RegistryResponseError, check_error
from registry_sdk.name import Repository
from registry_sdk.transport import StateStore, Transport
from tests.support.registry import RunningRegistry
from tests.support.token_server import USERS, TokenServer

from .test_transport_basic import push_image

Stack = tuple[RunningRegistry, TokenServer]


def alice() -> Basic:
    return Basic("alice", USERS["alice"])


def tags(t: Transport, repo: Repository) -> list[str]:
    resp = t.request("GET", t.url(f"/v2/{repo.path}/tags/list"))
    check_error(resp, method="GET")
    result: list[str] = json.loads(resp.data)["tags"]
    return result


def repo(reg: RunningRegistry, path: str) -> Repository:
    return Repository.parse(f"{reg.address}/{path}")


def test_seed_program_public_private_and_denied(token_stack: Stack) -> None:
    """Anonymous pull of a public repository; credentials for a private one; a denied
    repository gives a typed error with the registry's code."""
    reg, _ = token_stack
    public, private = repo(reg, "public/app"), repo(reg, "alice/app")
    writer = Transport(public.registry, alice(), insecure=True)
    push_image(writer, public, "v1")
    push_image(writer, private, "v1")
    assert tags(Transport(public.registry, ANONYMOUS, insecure=True), public) == ["v1"]
    assert tags(Transport(private.registry, alice(), insecure=True), private) == ["v1"]
    bob = Transport(private.registry, Basic("bob", USERS["bob"]), insecure=True)
    with pytest.raises(RegistryResponseError) as info:
        tags(bob, private)
    assert info.value.status == 401
    assert ErrorCode.UNAUTHORIZED in info.value.codes
    assert info.value.url.endswith("/v2/alice/app/tags/list")


def test_request_counts(token_stack: Stack) -> None:
    """3 HTTP requests for the first call on a repository (401, token, retry), 1 for the
    next, 2 for the first call on another repository (no 401); the same through a second
    transport sharing the registry state and token cache, as a Client does."""
    reg, server = token_stack
    first, second = repo(reg, "alice/count-a"), repo(reg, "alice/count-b")
    setup = Transport(first.registry, alice(), insecure=True)
    push_image(setup, first, "v1")
    push_image(setup, second, "v1")
    state, cache = StateStore(), TokenCache()
    t = Transport(first.registry, alice(), insecure=True, state=state, token_cache=cache)

    def cost(action: Transport, target: Repository) -> tuple[int, int]:
        before_reg, before_tok = len(reg.requests()), server.count()
        tags(action, target)
        return len(reg.requests()) - before_reg, server.count() - before_tok

    assert cost(t, first) == (2, 1)  # 401 + retry, one token: 3 requests
    assert cost(t, first) == (1, 0)  # cached token: 1 request
    assert cost(t, second) == (1, 1)  # realm known, token up front: 2 requests
    other = Transport(first.registry, alice(), insecure=True, state=state, token_cache=cache)
    assert cost(other, second) == (1, 0)
    assert reg.requests()[-1] == ("GET", "/v2/alice/count-b/tags/list", 200)


def test_push_escalates_to_pull_push(token_stack: Stack) -> None:
    """A transport declared for pull pushes: the token request asks for pull,push."""
    reg, server = token_stack
    target = repo(reg, "alice/escalate")
    t = Transport(target.registry, alice(), [target.scope("pull")], insecure=True)
    push_image(t, target, "v1")
    asked = {s for r in server.log for s in r.scopes}
    assert "repository:alice/escalate:pull,push" in asked
    assert tags(t, target) == ["v1"]


class Everything:
    """An authenticator holding a password and an identity token."""

    def __init__(self, refresh: str) -> None:
        self.refresh = refresh

    def authorization(self) -> Credentials:
        return Credentials("alice", USERS["alice"], identity_token=self.refresh)


def _refresh_token(server: TokenServer) -> str:
    token: str = server.issue("alice", [], offline=True)["refresh_token"]
    return token


def test_identity_token_uses_oauth_post_with_rotation(token_stack: Stack) -> None:
    """An identity token is exchanged by OAuth2 POST; a rotated refresh token is kept."""
    reg, server = token_stack
    a, b = repo(reg, "alice/oauth-a"), repo(reg, "alice/oauth-b")
    push_image(Transport(a.registry, alice(), insecure=True), a, "v1")
    push_image(Transport(b.registry, alice(), insecure=True), b, "v1")
    server.log.clear()
    auth: Authenticator = IdentityToken(_refresh_token(server), "alice")
    t = Transport(a.registry, auth, insecure=True)
    assert tags(t, a) == ["v1"]
    assert tags(t, b) == ["v1"]  # the first refresh token was consumed: rotation kept
    assert [(r.method, r.grant_type, r.status) for r in server.log] == [
        ("POST", "refresh_token", 200),
        ("POST", "refresh_token", 200),
    ]


def test_post_refused_falls_back_to_get(token_stack: Stack) -> None:
    """A token server answering POST with 405 gets the GET flow with Basic credentials."""
    reg, server = token_stack
    target = repo(reg, "alice/fallback")
    push_image(Transport(target.registry, alice(), insecure=True), target, "v1")
    server.log.clear()
    server.refuse_post = 405
    t = Transport(target.registry, Everything(_refresh_token(server)), insecure=True)
    assert tags(t, target) == ["v1"]
    assert [(r.method, r.status) for r in server.log] == [("POST", 405), ("GET", 200)]


def test_get_refused_post_works(token_stack: Stack) -> None:
    """With GET refused, the OAuth2 password grant (when asked) still gets a token."""
    reg, server = token_stack
    target = repo(reg, "alice/postonly")
    push_image(Transport(target.registry, alice(), insecure=True), target, "v1")
    server.log.clear()
    server.refuse_get = True
    t = Transport(target.registry, alice(), insecure=True, oauth_password=True)
    assert tags(t, target) == ["v1"]
    assert [(r.method, r.grant_type, r.status) for r in server.log] == [("POST", "password", 200)]


def test_tokens_expiring_mid_run_are_refreshed(token_stack: Stack) -> None:
    """Proactively (the client's clock passes expires_in) and reactively (the registry
    rejects a token the client still thought valid): no error reaches the caller."""
    reg, server = token_stack
    target = repo(reg, "alice/expiry")
    push_image(Transport(target.registry, alice(), insecure=True), target, "v1")
    now = [0.0]
    t = Transport(
        target.registry, alice(), insecure=True, token_cache=TokenCache(clock=lambda: now[0])
    )
    assert tags(t, target) == ["v1"]
    exchanges, seen = server.count(), len(reg.requests())
    now[0] += 301.0
    assert tags(t, target) == ["v1"]
    assert server.count() == exchanges + 1, (reg.requests()[seen:], server.log[exchanges:])

    server.jwt_skew = -400  # JWTs expire before distribution's 60 s leeway ends
    now[0] += 301.0
    t.request("GET", t.url(f"/v2/{target.path}/tags/list")).drain_conn()  # caches a dud
    server.jwt_skew = 0
    before = len(reg.requests())
    assert tags(t, target) == ["v1"]
    assert [status for _, _, status in reg.requests()[before:]] == [401, 200]
