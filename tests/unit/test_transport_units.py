"""Transport helpers that need no socket: scope inference and NO_PROXY matching."""

from __future__ import annotations

import pytest

from registry_sdk._proxy import bypassed_by_no_proxy
from registry_sdk.scope import scope_for_request

SCOPES = [
    ("GET", "https://r/v2/a/b/tags/list", "repository:a/b:pull"),
    ("HEAD", "https://r/v2/a/manifests/v1", "repository:a:pull"),
    ("POST", "https://r/v2/a/blobs/uploads/", "repository:a:pull,push"),
    ("PUT", "https://r/v2/org/app/manifests/v1", "repository:org/app:pull,push"),
    ("DELETE", "https://r/v2/a/manifests/sha256:x", "repository:a:delete"),
    ("GET", "https://r/v2/a/referrers/sha256:x", "repository:a:pull"),
    ("GET", "https://r/v2/_catalog?n=10", "registry:catalog:*"),
    ("GET", "https://r/v2/", None),
]


@pytest.mark.parametrize(("method", "url", "scope"), SCOPES)
def test_scope_for_request(method: str, url: str, scope: str | None) -> None:
    """The scope distribution demands is inferred from method and path."""
    got = scope_for_request(method, url)
    assert (str(got) if got else None) == scope


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "bypass"),
    [
        ("r.example", 443, "", False),
        ("r.example", 443, "*", True),
        ("r.example", 443, "r.example", True),
        ("a.r.example", 443, ".r.example", True),
        ("a.r.example", 443, "r.example", True),
        ("xr.example", 443, "r.example", False),
        ("r.example", 5000, "r.example:5000", True),
        ("r.example", 443, "r.example:5000", False),
        ("127.0.0.1", 5000, "localhost, 127.0.0.1", True),
    ],
)
def test_no_proxy(host: str, port: int, no_proxy: str, bypass: bool) -> None:
    """NO_PROXY: `*`, hosts, domain suffixes and host:port entries."""
    assert bypassed_by_no_proxy(host, port, no_proxy) is bypass


class RecordingPool:
    """A stand-in PoolManager that records requests instead of sending them (no sockets)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str, url: str, **kw: object) -> object:
        import io

        import urllib3

        headers = kw.get("headers")
        self.sent.append((method, url, dict(headers) if isinstance(headers, dict) else {}))
        return urllib3.HTTPResponse(body=io.BytesIO(b"{}"), status=200, preload_content=True)


def test_plain_http_to_non_loopback_only_when_insecure() -> None:
    """http://registry.example is refused (nothing sent) unless marked insecure, then sent."""
    from registry_sdk.authn import Bearer
    from registry_sdk.errors import SecurityError
    from registry_sdk.transport import Transport

    pool = RecordingPool()
    strict = Transport("registry.example:5000", Bearer("tok-SECRET"), pool=pool)  # type: ignore[arg-type]
    with pytest.raises(SecurityError):
        strict.request("GET", "http://registry.example:5000/v2/")
    assert pool.sent == []
    allowed = Transport(
        "registry.example:5000",
        Bearer("tok-SECRET"),
        pool=pool,  # type: ignore[arg-type]
        insecure=True,
    )
    assert allowed.url("/v2/") == "http://registry.example:5000/v2/"
    assert allowed.request("GET", allowed.url("/v2/")).status == 200
    assert pool.sent[0][:2] == ("GET", "http://registry.example:5000/v2/")
    assert pool.sent[0][2]["Authorization"] == "Bearer tok-SECRET"


def test_refusal_messages_never_show_a_userinfo_password() -> None:
    """A URL carrying user:password (an upload Location, a typo): the SecurityError's
    message shows the host, never the password (rule 4)."""
    from registry_sdk.errors import SecurityError
    from registry_sdk.transport import Transport

    t = Transport("registry.example:5000", pool=RecordingPool())  # type: ignore[arg-type]
    for url, allow in (
        ("http://user:pw-SECRET@storage.example/up", True),
        ("https://user:pw-SECRET@other.example/v2/", False),
    ):
        with pytest.raises(SecurityError) as info:
            t.request("GET", url, allow_other_host=allow)
        assert "SECRET" not in str(info.value) and "SECRET" not in info.value.url


@pytest.mark.parametrize(
    ("url", "direct"),
    [
        ("http://localhost:5000/v2/", True),
        ("http://127.0.0.1:5000/v2/", True),
        ("http://[::1]:5000/v2/", True),
        ("http://registry.localhost/v2/", True),
        ("http://10.1.2.3:5000/v2/", True),  # NO_PROXY=10.0.0.0/8
        ("http://registry.example/v2/", False),
    ],
)
def test_loopback_is_never_proxied(url: str, direct: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for a registry on this machine never go to HTTP_PROXY (rule 2), and
    NO_PROXY takes CIDR entries, as docker and Go do."""
    import urllib3

    from registry_sdk._proxy import Proxies

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8")
    pool = urllib3.PoolManager()
    assert (Proxies(pool, None).pool_for(url) is pool) is direct
