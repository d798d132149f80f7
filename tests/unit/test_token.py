"""Sans-IO token logic: realm validation, token requests and responses, the cache."""

from __future__ import annotations

import base64
import threading
import time
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
    req = T.token_get("https://a.example/token?x=1&scope=old", "svc",
                      ["repository:a:pull", "repository:b:pull,push"],
                      username="u", password="p-SECRET")
    query = parse_qs(urlsplit(req.url).query)
    assert query == {"x": ["1"], "service": ["svc"], "account": ["u"],
                     "scope": ["repository:a:pull", "repository:b:pull,push"]}
    assert dict(req.headers)["Authorization"] == "Basic " + base64.b64encode(
        b"u:p-SECRET").decode()
    assert T.token_get("https://a.example/t", None, []).headers == ()


def test_token_post_refresh_and_password_grants() -> None:
    """OAuth2 POST: refresh_token grant, or password grant asking for offline access."""
    req = T.token_post("https://a.example/t", "svc", ["repository:a:pull"],
                       refresh_token="r-SECRET")
    assert req.body is not None
    form = parse_qs(req.body.decode())
    assert form == {"grant_type": ["refresh_token"], "client_id": ["registry-sdk"],
                    "service": ["svc"], "refresh_token": ["r-SECRET"],
                    "scope": ["repository:a:pull"]}
    form = parse_qs((T.token_post("https://a/t", None, ["s"], username="u", password="p")
                     .body or b"").decode())
    assert form["grant_type"] == ["password"] and form["access_type"] == ["offline"]


@pytest.mark.parametrize(("body", "value", "lifetime", "refresh"), [
    (b'{"token":"t1"}', "t1", 60, ""),
    (b'{"access_token":"a","token":"t","expires_in":300}', "a", 300, ""),
    (b'{"token":"t","expires_in":10}', "t", 60, ""),
    (b'{"token":"t","expires_in":"x","refresh_token":"r"}', "t", 60, "r"),
])
def test_parse_token_response(body: bytes, value: str, lifetime: int, refresh: str) -> None:
    """access_token wins; expires_in defaults to and is at least 60; refresh kept."""
    token = T.parse_token_response(body, realm="https://a/t", registry="r", now=1000.0)
    assert (token.value, token.expires_at, token.refresh_token) == (
        value, 1000.0 + lifetime, refresh)
    assert "t" not in repr(token).replace("Token", "").replace("expires_at", "").replace(
        "refresh", "")


@pytest.mark.parametrize(("body", "message"), [
    (b"<html>SECRET-page</html>", "token response is not JSON"),
    (b"[]", "token response is not a JSON object"),
    (b'{"refresh_token":"SECRET"}', "token server did not include a token in its response"),
    (b'{"token":"' + b"x" * 70000 + b'"}', "token response too large"),
])
def test_bad_token_responses_never_echo_the_body(body: bytes, message: str) -> None:
    """Bad token responses raise TokenExchangeError without the body."""
    with pytest.raises(TokenExchangeError) as info:
        T.parse_token_response(body, realm="https://a/t?sig=SECRET", registry="r", now=0.0)
    assert info.value.message == message
    assert info.value.realm == "https://a/t?sig=REDACTED"


def test_cache_expiry_and_single_flight() -> None:
    """One exchange per key however many threads ask; refreshed before expiry."""
    now = [0.0]
    cache = T.TokenCache(clock=lambda: now[0])
    calls: list[int] = []

    def fetch() -> T.Token:
        calls.append(1)
        time.sleep(0.05)
        return T.Token(f"t{len(calls)}", now[0] + 60)

    key: T.CacheKey = ("r", "realm", "svc", frozenset({"repository:a:pull"}), "anonymous")
    threads = [threading.Thread(target=cache.get_or_fetch, args=(key, fetch))
               for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1 and cache.exchanges == 1
    now[0] = 56.0  # within 5 s of expiry: refreshed early
    assert cache.get(key) is None
    assert cache.get_or_fetch(key, fetch).value == "t2"
    cache.invalidate(key)
    assert cache.get(key) is None


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("127.0.0.1", True), ("127.1.2.3", True), ("[::1]", True),
    ("app.localhost", True), ("10.0.0.1", False), ("registry.example", False)])
def test_is_loopback_host(host: str, loopback: bool) -> None:
    """Loopback names and addresses (IPv4 /8, IPv6, *.localhost)."""
    assert T.is_loopback_host(host) is loopback


def test_many_rejections_of_one_token_cause_one_refresh() -> None:
    """16 callers whose requests were all rejected with token t1: one refresh, not 16
    (each forgets only the token it sent, so later ones keep the fresh token)."""
    cache = T.TokenCache(clock=lambda: 0.0)
    made: list[str] = []

    def fetch() -> T.Token:
        made.append(f"t{len(made) + 1}")
        return T.Token(made[-1], 3600.0)

    key: T.CacheKey = ("r", "realm", "svc", frozenset({"repository:a:pull"}), "anonymous")
    assert cache.get_or_fetch(key, fetch).value == "t1"
    for _ in range(16):
        cache.invalidate(key, "t1")
        assert cache.get_or_fetch(key, fetch).value == "t2"
    assert made == ["t1", "t2"]
