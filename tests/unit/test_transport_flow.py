"""The transport's auth decisions, stepped through a scripted pool (no sockets).

Each test scripts the responses the registry and token server would give and asserts
the exact requests the transport sends, in order, with or without credentials.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
import urllib3

from registry_sdk._token import TokenCache
from registry_sdk.authn import ANONYMOUS, Basic, Bearer, IdentityToken
from registry_sdk.transport import Transport

REG = "https://registry.example"
REALM = "https://auth.example/token"
BEARER = f'Bearer realm="{REALM}",service="svc"'


def resp(status: int, body: bytes = b"", **headers: str) -> urllib3.HTTPResponse:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return urllib3.HTTPResponse(
        body=io.BytesIO(body), status=status, headers=hdrs, preload_content=False
    )


def token(value: str, **extra: object) -> urllib3.HTTPResponse:
    return resp(
        200, json.dumps({"token": value, **extra}).encode(), Content_Type="application/json"
    )


class ScriptedPool:
    """Answers each request with the next scripted response; records what was sent."""

    def __init__(self, *script: urllib3.HTTPResponse) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, str, str]] = []

    def request(self, method: str, url: str, **kw: object) -> urllib3.HTTPResponse:
        headers = kw.get("headers")
        auth = headers.get("Authorization", "") if isinstance(headers, dict) else ""
        scheme = auth.split(" ")[0] if auth else "-"
        self.sent.append((method, url.split("?", maxsplit=1)[0], scheme))
        return self.script.pop(0)


def transport(pool: ScriptedPool, auth: object = ANONYMOUS, **kw: object) -> Transport:
    return Transport("registry.example", auth, pool=pool, **kw)  # type: ignore[arg-type]


TAGS = f"{REG}/v2/a/tags/list"


def test_first_401_then_token_then_retry_then_cached() -> None:
    """401 -> token GET with Basic -> retry with Bearer; next request: token up front."""
    pool = ScriptedPool(resp(401, WWW_Authenticate=BEARER), token("t1"), resp(200), resp(200))
    t = transport(pool, Basic("u", "p"))
    assert t.request("GET", TAGS).status == 200
    assert t.request("GET", TAGS).status == 200
    assert pool.sent == [
        ("GET", TAGS, "-"),
        ("GET", REALM, "Basic"),
        ("GET", TAGS, "Bearer"),
        ("GET", TAGS, "Bearer"),
    ]


def test_second_401_is_returned_not_looped() -> None:
    """A retried request that is refused again comes back as the 401 (one retry only)."""
    pool = ScriptedPool(
        resp(401, WWW_Authenticate=BEARER),
        token("t1"),
        resp(401, WWW_Authenticate=BEARER + ',error="insufficient_scope"'),
    )
    t = transport(pool, Basic("u", "p"))
    assert t.request("GET", TAGS).status == 401
    assert len(pool.sent) == 3


def test_401_without_challenge_forces_one_refresh() -> None:
    """A token rejected with a bare 401 is refreshed once (some registries omit the
    challenge), then the request is retried."""
    pool = ScriptedPool(
        resp(401, WWW_Authenticate=BEARER),
        token("t1"),
        resp(200),
        resp(401),
        token("t2"),
        resp(200),
    )
    t = transport(pool, Basic("u", "p"))
    t.request("GET", TAGS)
    assert t.request("GET", TAGS).status == 200
    assert [s[1] for s in pool.sent[3:]] == [TAGS, REALM, TAGS]


def test_expired_400_forces_one_refresh() -> None:
    """ECR Public answers an expired token with 400 "... expired": one refresh, read from
    a streamed body (the driver reads the budget the flow asks for)."""
    expired = resp(400, b'{"errors":[{"code":"DENIED","message":"token expired"}]}')
    pool = ScriptedPool(
        resp(401, WWW_Authenticate=BEARER), token("t1"), resp(200), expired, token("t2"), resp(200)
    )
    t = transport(pool, Basic("u", "p"))
    t.request("GET", TAGS)
    assert t.request("GET", TAGS, preload_content=False).status == 200
    assert [s[1] for s in pool.sent[3:]] == [TAGS, REALM, TAGS]


def test_basic_challenge_retries_with_basic_and_remembers() -> None:
    """A Basic challenge: retry with Basic, then send Basic up front."""
    pool = ScriptedPool(resp(401, WWW_Authenticate='Basic realm="r"'), resp(200), resp(200))
    t = transport(pool, Basic("u", "p"))
    t.request("GET", TAGS)
    t.request("GET", TAGS)
    assert [s[2] for s in pool.sent] == ["-", "Basic", "Basic"]


def test_anonymous_basic_challenge_is_returned() -> None:
    """No credentials for a Basic challenge: the 401 is returned, nothing retried."""
    pool = ScriptedPool(resp(401, WWW_Authenticate='Basic realm="r"'))
    assert transport(pool).request("GET", TAGS).status == 401
    assert len(pool.sent) == 1


def test_registry_token_is_sent_as_is() -> None:
    """A registry token (Bearer authenticator) goes straight to the registry."""
    pool = ScriptedPool(resp(200))
    transport(pool, Bearer("rt")).request("GET", TAGS)
    assert pool.sent == [("GET", TAGS, "Bearer")]


def test_identity_token_posts_and_falls_back_on_404() -> None:
    """An identity token: OAuth2 POST; a 404 from the token server falls back to GET."""
    pool = ScriptedPool(resp(401, WWW_Authenticate=BEARER), resp(404), token("t1"), resp(200))
    t = transport(pool, IdentityToken("refresh", "u"))
    assert t.request("GET", TAGS).status == 200
    assert [(m, u) for m, u, _ in pool.sent] == [
        ("GET", TAGS),
        ("POST", REALM),
        ("GET", REALM),
        ("GET", TAGS),
    ]


@pytest.mark.parametrize(
    "challenge",
    [
        "Negotiate abc",  # a scheme we do not speak
        'Bearer service="svc"',  # no realm
        'Bearer realm="unterminated',  # malformed
    ],
)
def test_unusable_challenges_return_the_401(challenge: str) -> None:
    """No usable challenge: the 401 is returned to the caller, nothing else is sent."""
    pool = ScriptedPool(resp(401, WWW_Authenticate=challenge))
    assert transport(pool, Basic("u", "p")).request("GET", TAGS).status == 401
    assert len(pool.sent) == 1


def test_expiry_is_refreshed_early_by_the_clock() -> None:
    """A token whose expires_in has (nearly) passed is replaced before sending."""
    now = [0.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    pool = ScriptedPool(
        resp(401, WWW_Authenticate=BEARER),
        token("t1", expires_in=300),
        resp(200),
        token("t2"),
        resp(200),
    )
    t = transport(pool, Basic("u", "p"), token_cache=TokenCache(clock=clock))
    t.request("GET", TAGS)
    now[0] = 296.0
    t.request("GET", TAGS)
    assert [s[1] for s in pool.sent[3:]] == [REALM, TAGS]


def test_bearer_challenge_with_no_credentials_goes_anonymous() -> None:
    """Anonymous pulls: the token GET carries no Authorization."""
    pool = ScriptedPool(resp(401, WWW_Authenticate=BEARER), token("anon"), resp(200))
    assert transport(pool).request("GET", TAGS).status == 200
    assert pool.sent[1] == ("GET", REALM, "-")


def test_a_refused_registry_token_is_not_sent_again() -> None:
    """A registry token the registry refuses: the 401 comes back after one request; the
    same credential is not re-sent (there is nothing better to offer)."""
    pool = ScriptedPool(resp(401, WWW_Authenticate=BEARER))
    assert transport(pool, Bearer("rt")).request("GET", TAGS).status == 401
    assert pool.sent == [("GET", TAGS, "Bearer")]


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:2375/containers/victim?force=1",
        "https://127.0.0.1:2375/containers/victim",
        "https://10.0.0.7/internal",
        "http://169.254.169.254/latest/meta-data/",
        "http://storage.example/blob",  # https registry: no downgrade to plain http
    ],
)
def test_registry_redirects_to_local_or_plain_targets_are_refused(location: str) -> None:
    """A remote registry cannot aim the caller's request (its method and body) at local
    services, private or metadata addresses, or plain http: SecurityError, not sent."""
    from registry_sdk.errors import SecurityError

    pool = ScriptedPool(resp(307, Location=location))
    t = transport(pool)
    with pytest.raises(SecurityError) as info:
        t.request("DELETE", f"{REG}/v2/a/manifests/sha256:{'0' * 64}")
    assert info.value.rule == "redirect"
    assert len(pool.sent) == 1


def test_registry_redirect_to_public_https_storage_is_followed() -> None:
    """A blob redirect to public https storage is followed, without credentials."""
    pool = ScriptedPool(resp(307, Location="https://storage.example/blob?sig=x"), resp(200))
    t = transport(pool, Bearer("tok"))
    assert t.request("GET", f"{REG}/v2/a/blobs/sha256:{'0' * 64}").status == 200
    assert [s[2] for s in pool.sent] == ["Bearer", "-"]


def test_a_file_body_is_sent_whole_on_every_attempt() -> None:
    """A seekable file body is rewound to where it started before the retry after a 401
    and before following a 307: each send carries the whole body."""

    class BodyPool(ScriptedPool):
        bodies: list[object]

        def request(self, method: str, url: str, **kw: object) -> urllib3.HTTPResponse:
            body = kw.get("body")
            self.bodies.append(body.read() if hasattr(body, "read") else body)
            return super().request(method, url, **kw)

    pool = BodyPool(
        resp(401, WWW_Authenticate='Basic realm="r"'),
        resp(307, Location=f"{REG}/v2/a/blobs/uploads/moved"),
        resp(201),
    )
    pool.bodies = []
    t = transport(pool, Basic("u", "p"))
    source = io.BytesIO(b"skip:HELLO-BODY")
    source.seek(5)
    t.request("PUT", f"{REG}/v2/a/blobs/uploads/u", body=source, headers={"Content-Length": "10"})
    assert pool.bodies == [b"HELLO-BODY"] * 3


@pytest.mark.parametrize("known_length", [True, False])
def test_a_preloaded_body_is_capped(known_length: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer larger than the preload cap (a 202 to a DELETE, say) is refused rather
    than read into memory (rule 5), whether or not it announces its length."""
    from registry_sdk import transport as transport_module
    from registry_sdk.errors import InvalidResponse

    monkeypatch.setattr(transport_module, "PRELOAD_LIMIT", 1024)
    body = b"x" * 4096
    headers = {"Content-Length": str(len(body))} if known_length else {}
    pool = ScriptedPool(
        urllib3.HTTPResponse(
            body=io.BytesIO(body), status=202, headers=headers, preload_content=False
        )
    )
    with pytest.raises(InvalidResponse):
        transport(pool).request("DELETE", f"{REG}/v2/a/blobs/uploads/u")
    small = ScriptedPool(resp(202, b"{}"))
    assert transport(small).request("DELETE", f"{REG}/v2/a/blobs/uploads/u").data == b"{}"


def test_the_response_names_the_url_that_answered() -> None:
    """A HEAD (no body, not replayed) still knows its absolute URL, so an error message
    says where the request went (issue 10 trial: it showed a bare path)."""
    pool = ScriptedPool(resp(404))
    answer = transport(pool).request("HEAD", f"{REG}/v2/a/manifests/nope")
    assert answer.url == f"{REG}/v2/a/manifests/nope"
