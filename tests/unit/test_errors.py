"""The exception tree: hierarchy, messages, pickling, check_error decoding."""

from __future__ import annotations

import pickle
from collections.abc import Mapping

import pytest

from registry_sdk import errors as E
from registry_sdk.errors import Diagnostic, ErrorCode, check_error

SAMPLES: list[E.RegistryError] = [
    E.RegistryError("x"),
    E.InvalidReference("m", kind=E.ReferenceErrorKind.NAME_EMPTY, source="", span=(0, 0)),
    E.InvalidScope("m", source="s"),
    E.InvalidChallenge("m", source="Basic,", position=5),
    E.CredentialsError("m", source="/f:auths.x", registry="r"),
    E.CredentialHelperError("m", helper="docker-credential-x", registry="r"),
    E.SecurityError("m", rule="realm", url="https://x/?token=abc"),
    E.TransportError("m", method="GET", url="https://x/"),
    E.TransportTimeout("m", method="GET", url="https://x/"),
    E.AuthenticationError("m", registry="r", username="u", origin="f (key 'r')"),
    E.TokenExchangeError(
        "m", registry="r", realm="https://a/t", status=401, username="u", origin="helper"
    ),
    E.Unauthorized(
        "m",
        diagnostics=(Diagnostic(ErrorCode.UNAUTHORIZED),),
        method="GET",
        url="https://r/v2/",
        registry="r",
        username="u",
        origin="f",
    ),
    E.RegistryResponseError(
        status=404,
        diagnostics=(Diagnostic(ErrorCode.NAME_UNKNOWN, "x"),),
        method="GET",
        url="https://r/v2/a/tags/list",
        retry_after=2.0,
    ),
    E.InvalidResponse("m", what="manifest", errors=("$.layers[0]: missing",)),
    E.DigestMismatch(expected="sha256:a", actual="sha256:b", what="manifest"),
]


@pytest.mark.parametrize("exc", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_exception_pickles_with_its_data(exc: E.RegistryError) -> None:
    """Each exception survives pickling with its message and attributes."""
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert str(copy) == str(exc)
    assert vars(copy) == vars(exc)
    assert isinstance(copy, E.RegistryError)


def test_urls_are_redacted_when_stored() -> None:
    """Secret query values never reach an exception."""
    exc = E.SecurityError("m", rule="redirect", url="https://u:pw@s3/x?X-Amz-Signature=s&n=1")
    assert exc.url == "https://u:REDACTED@s3/x?X-Amz-Signature=REDACTED&n=1"


class FakeResponse:
    """A minimal ResponseLike for check_error tests (no sockets)."""

    def __init__(
        self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.headers = dict(headers or {})
        self._body = body

    def read(self, amt: int | None = None) -> bytes:
        return self._body[:amt]


def _raised(resp: FakeResponse, method: str = "GET") -> E.RegistryResponseError:
    with pytest.raises(E.RegistryResponseError) as info:
        check_error(resp, method=method, url="https://r/v2/a/manifests/x")
    return info.value


def test_check_error_accepts_expected() -> None:
    """Expected statuses pass (200 by default)."""
    check_error(FakeResponse(200))
    check_error(FakeResponse(202), 201, 202)


def test_check_error_decodes_envelope_and_unknown_codes() -> None:
    """Known codes become ErrorCode; unknown ones stay strings; several are all kept."""
    body = (
        b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"},'
        b'{"code":"WEIRD_CODE","message":"w","detail":{"a":1}}]}'
    )
    exc = _raised(FakeResponse(404, body))
    assert exc.codes == (ErrorCode.MANIFEST_UNKNOWN, "WEIRD_CODE")
    assert exc.diagnostics[1].detail == {"a": 1}
    assert str(exc) == (
        "GET https://r/v2/a/manifests/x: multiple errors returned: "
        "MANIFEST_UNKNOWN: manifest unknown; WEIRD_CODE: w (status 404)"
    )
    assert not exc.is_temporary


MANIFEST = "https://r/v2/a/manifests/x"
BLOB = "https://r/v2/a/blobs/sha256:" + "a" * 64
UPLOAD = "https://r/v2/a/blobs/uploads/uuid?_state=x"
TAGS = "https://r/v2/a/tags/list"
OTHER = "https://r/v2/"


@pytest.mark.parametrize(
    ("status", "body", "method", "url", "codes", "temporary"),
    [
        (401, b"", "GET", MANIFEST, (ErrorCode.UNAUTHORIZED,), False),
        (403, b"<html>denied</html>", "GET", MANIFEST, (ErrorCode.DENIED,), False),
        (429, b"", "HEAD", MANIFEST, (ErrorCode.TOOMANYREQUESTS,), True),
        (408, b"", "GET", MANIFEST, (ErrorCode.UNKNOWN,), True),
        # A body-less 404 takes its code from the route, and a missing thing is permanent.
        (404, b"", "HEAD", MANIFEST, (ErrorCode.MANIFEST_UNKNOWN,), False),
        (404, b"", "HEAD", BLOB, (ErrorCode.BLOB_UNKNOWN,), False),
        (404, b"not json", "GET", BLOB, (ErrorCode.BLOB_UNKNOWN,), False),
        (404, b"", "GET", TAGS, (ErrorCode.NAME_UNKNOWN,), False),
        (404, b"", "PATCH", UPLOAD, (ErrorCode.BLOB_UPLOAD_UNKNOWN,), False),
        (404, b"", "GET", OTHER, (ErrorCode.UNKNOWN,), False),
        (400, b"", "GET", OTHER, (ErrorCode.UNKNOWN,), False),
        (503, b"", "GET", MANIFEST, (), True),
        (500, b'{"details":"boom"}', "GET", MANIFEST, (ErrorCode.UNKNOWN,), True),
        (
            404,
            b'{"errors":[{"code":"NAME_UNKNOWN"}]}',
            "HEAD",
            MANIFEST,
            (ErrorCode.MANIFEST_UNKNOWN,),
            False,
        ),
        # Temporary codes in a body make a 4xx temporary; UNKNOWN does not.
        (
            400,
            b'{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}',
            "PUT",
            UPLOAD,
            (ErrorCode.BLOB_UPLOAD_INVALID,),
            True,
        ),
        (400, b'{"errors":[{"code":"UNKNOWN"}]}', "GET", MANIFEST, (ErrorCode.UNKNOWN,), False),
    ],
)
def test_check_error_is_lenient(
    status: int, body: bytes, method: str, url: str, codes: tuple[ErrorCode, ...], temporary: bool
) -> None:
    """Non-JSON, empty and HEAD bodies get a code from the status and the route; only
    408, 429, 5xx and temporary codes are temporary (retry code built on is_temporary
    must not retry a missing tag)."""
    with pytest.raises(E.RegistryResponseError) as info:
        check_error(FakeResponse(status, body), method=method, url=url)
    exc = info.value
    assert (exc.status, exc.codes, exc.is_temporary) == (status, codes, temporary)
    assert isinstance(exc, E.Unauthorized) is (status == 401)
    assert isinstance(exc, E.AuthenticationError) is (status == 401)


def test_check_error_maps_bearer_error_and_retry_after() -> None:
    """A bearer error= in WWW-Authenticate is placed first; Retry-After is kept."""
    headers = {
        "WWW-Authenticate": 'Bearer realm="https://a/t",error="insufficient_scope"',
        "Retry-After": "7",
    }
    exc = _raised(FakeResponse(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"m"}]}', headers))
    assert exc.codes == (ErrorCode.DENIED, ErrorCode.UNAUTHORIZED)
    assert exc.retry_after == 7.0


def test_check_error_reads_preloaded_urllib3_responses() -> None:
    """A urllib3 response whose body was already preloaded still yields its diagnostics."""
    import io

    import urllib3

    body = b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}'
    resp = urllib3.HTTPResponse(
        body=io.BytesIO(body),
        status=404,
        preload_content=True,
        headers={"Content-Type": "application/json"},
        request_url="https://r.example/v2/x/tags/list?sig=abc",
    )
    with pytest.raises(E.RegistryResponseError) as info:
        check_error(resp)
    assert info.value.codes == (ErrorCode.NAME_UNKNOWN,)
    assert str(info.value) == (
        "https://r.example/v2/x/tags/list?sig=REDACTED: NAME_UNKNOWN: "
        "repository name not known (status 404)"
    )
