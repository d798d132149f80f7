"""Transport helpers that need no socket: scope inference and NO_PROXY matching."""

from __future__ import annotations

import pytest

from registry_sdk._wire import bypassed_by_no_proxy
from registry_sdk.transport import scope_for_request

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


@pytest.mark.parametrize(("host", "port", "no_proxy", "bypass"), [
    ("r.example", 443, "", False),
    ("r.example", 443, "*", True),
    ("r.example", 443, "r.example", True),
    ("a.r.example", 443, ".r.example", True),
    ("a.r.example", 443, "r.example", True),
    ("xr.example", 443, "r.example", False),
    ("r.example", 5000, "r.example:5000", True),
    ("r.example", 443, "r.example:5000", False),
    ("127.0.0.1", 5000, "localhost, 127.0.0.1", True),
])
def test_no_proxy(host: str, port: int, no_proxy: str, bypass: bool) -> None:
    """NO_PROXY: `*`, hosts, domain suffixes and host:port entries."""
    assert bypassed_by_no_proxy(host, port, no_proxy) is bypass
