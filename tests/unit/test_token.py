"""Sans-IO token logic: realm validation, token requests and responses, the cache."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from registry_sdk import _token as T
from registry_sdk.errors import SecurityError, TokenExchangeError

REALMS = [
    ("https://auth.docker.io/token", "https://registry-1.docker.io", None),
    ("http://127.0.0.1:5001/token", "http://127.0.0.1:5000", None),
    ("https://127.0.0.1:5001/token", "https://127.0.0.1:5000", None),
    ("http://auth.example/token", "https://registry.example", "downgrades"),
    ("https://169.254.169.254/latest", "https://registry.example", "forbidden address"),
    ("https://[fe80::1]/t", "https://registry.example", "forbidden address"),
    ("https://0.0.0.0/t", "https://registry.example", "forbidden address"),
    ("https://10.0.0.5/t", "https://registry.example", "private address"),
    ("https://127.0.0.1/t", "https://registry.example", "private address"),
    ("ftp://auth.example/t", "https://registry.example", "absolute http"),
    ("/relative", "https://registry.example", "absolute http"),
]


@pytest.mark.parametrize(("realm", "registry", "problem"), REALMS)
def test_validate_realm(realm: str, registry: str, problem: str | None) -> None:
    """Security rule 3: https unless the registry is http; no metadata or foreign private IPs."""
    if problem is None:
        assert T.validate_realm(realm, registry) == realm
        return
    with pytest.raises(SecurityError, match=problem) as info:
        T.validate_realm(realm, registry)
    assert info.value.rule == "realm"


def test_token_get_builds_query_and_basic_only_with_credentials() -> None:
    """GET keeps the realm's query, repeats scope, adds service and account."""
    req = T.token_get(
        "https://a.example/token?x=1&scope=old",
        "svc",
        ["repository:a:pull", "repository:b:pull,push"],
        username="u",
        password="p-SECRET",
    )
    query = parse_qs(urlsplit(req.url).query)
    assert query == {
        "x": ["1"],
        "service": ["svc"],
        "account": ["u"],
        "scope": ["repository:a:pull", "repository:b:pull,push"],
    }
    assert dict(req.headers)["Authorization"] == "Basic " + base64.b64encode(b"u:p-SECRET").decode()
    assert dict(T.token_get("https://a.example/t", None, []).headers) == {}


def test_token_post_refresh_and_password_grants() -> None:
    """OAuth2 POST: refresh_token grant, or password grant asking for offline access."""
    req = T.token_post(
        "https://a.example/t", "svc", ["repository:a:pull"], refresh_token="r-SECRET"
    )
    assert req.body is not None
    form = parse_qs(req.body.decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "client_id": ["registry-sdk"],
        "service": ["svc"],
        "refresh_token": ["r-SECRET"],
        "scope": ["repository:a:pull"],
    }
    form = parse_qs(
        (T.token_post("https://a/t", None, ["s"], username="u", password="p").body or b"").decode()
    )
    assert form["grant_type"] == ["password"] and form["access_type"] == ["offline"]


@pytest.mark.parametrize(
    ("body", "value", "lifetime", "refresh"),
    [
        (b'{"token":"t1"}', "t1", 60, ""),
        (b'{"access_token":"a","token":"t","expires_in":300}', "a", 300, ""),
        (b'{"token":"t","expires_in":10}', "t", 60, ""),
        (b'{"token":"t","expires_in":"x","refresh_token":"r"}', "t", 60, "r"),
    ],
)
def test_parse_token_response(body: bytes, value: str, lifetime: int, refresh: str) -> None:
    """access_token wins; expires_in defaults to and is at least 60; refresh kept."""
    token = T.parse_token_response(body, realm="https://a/t", registry="r", now=1000.0)
    assert (token.value, token.expires_at, token.refresh_token) == (
        value,
        1000.0 + lifetime,
        refresh,
    )
    assert "t" not in repr(token).replace("Token", "").replace("expires_at", "").replace(
        "refresh", ""
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>SECRET-page</html>", "token response is not JSON"),
        (b"[]", "token response is not a JSON object"),
        (b'{"refresh_token":"SECRET"}', "token server did not include a token in its response"),
        (b'{"token":"' + b"x" * 70000 + b'"}', "token response too large"),
    ],
)
def test_bad_token_responses_never_echo_the_body(body: bytes, message: str) -> None:
    """Bad token responses raise TokenExchangeError without the body."""
    with pytest.raises(TokenExchangeError) as info:
        T.parse_token_response(body, realm="https://a/t?sig=SECRET", registry="r", now=0.0)
    assert info.value.message == message
    assert info.value.realm == "https://a/t?sig=REDACTED"


def test_cache_expiry_and_invalidation() -> None:
    """A stored token is served until 5 s before expiry; invalidating by value forgets
    only that token (the herd rule: a later refusal of an old token keeps the new one)."""
    now = [0.0]
    cache = T.TokenCache(clock=lambda: now[0])
    key: T.CacheKey = ("r", "realm", "svc", frozenset({"repository:a:pull"}), "anonymous")
    assert cache.get(key) is None
    cache.put(key, T.Token("t1", 60.0))
    assert cache.get(key) == T.Token("t1", 60.0) and cache.exchanges == 1
    now[0] = 56.0  # within 5 s of expiry: treated as gone, so it is refreshed early
    assert cache.get(key) is None
    now[0] = 0.0
    cache.put(key, T.Token("t2", 60.0))
    cache.invalidate(key, "t1")  # an old token's refusal
    assert cache.get(key) == T.Token("t2", 60.0)
    cache.invalidate(key, "t2")
    assert cache.get(key) is None
    assert cache.lock(key) is cache.lock(key)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("[::1]", True),
        ("app.localhost", True),
        ("10.0.0.1", False),
        ("registry.example", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    """Loopback names and addresses (IPv4 /8, IPv6, *.localhost)."""
    assert T.is_loopback_host(host) is loopback
