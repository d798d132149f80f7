"""`check_error`: the one place where an HTTP status becomes an exception.

Re-exported by `registry_sdk.errors`; it decodes registry error bodies leniently and
never imports urllib3 (any object with `status`, `headers` and `read` will do).
"""

from __future__ import annotations

from collections.abc import Mapping

from registry_sdk._errors import (
    Diagnostic,
    ErrorCode,
    InvalidChallenge,
    RegistryResponseError,
    ResponseLike,
    Unauthorized,
    _code,
)
from registry_sdk.challenge import parse_challenges

__all__ = ["ERROR_BODY_LIMIT", "check_error", "status_diagnostic"]

#: How much of an error body is read and kept (security rule 5).
ERROR_BODY_LIMIT = 64 * 1024
_STATUS_CODES = {401: ErrorCode.UNAUTHORIZED, 403: ErrorCode.DENIED, 429: ErrorCode.TOOMANYREQUESTS}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _bearer_error(headers: Mapping[str, str]) -> Diagnostic | None:
    value = headers.get("WWW-Authenticate")
    if not value:
        return None
    try:
        challenges = parse_challenges([value])
    except InvalidChallenge:
        return None
    for ch in challenges:
        if ch.scheme == "bearer":
            err = ch.params.get("error")
            code = {
                "invalid_token": ErrorCode.UNAUTHORIZED,
                "insufficient_scope": ErrorCode.DENIED,
            }.get(err or "")
            if code is not None:
                return Diagnostic(code, ch.params.get("error_description", err or ""))
    return None


def _decode_diagnostics(body: bytes) -> tuple[Diagnostic, ...] | None:
    import json  # noqa: PLC0415 (only needed once something failed)

    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    entries = doc.get("errors")
    if isinstance(entries, list):
        out = []
        for entry in entries:
            if isinstance(entry, dict) and "code" in entry:
                message = entry.get("message")
                out.append(
                    Diagnostic(
                        _code(entry["code"]),
                        message if isinstance(message, str) else "",
                        entry.get("detail"),
                    )
                )
        return tuple(out)
    details = doc.get("details")
    if isinstance(details, str):
        return (Diagnostic(ErrorCode.UNKNOWN, details),)
    return None


def _error_body(response: ResponseLike) -> bytes:
    """At most ERROR_BODY_LIMIT bytes of the body, through public API only.

    A streamed response is read; a preloaded urllib3 response answers `read()` with
    nothing and holds its body in `data`, which is then already in memory.
    """
    try:
        body = response.read(ERROR_BODY_LIMIT)
    except Exception:  # noqa: BLE001 (a broken error body decodes as empty; the status
        return b""  # still becomes a typed error, and this module imports no urllib3)
    if body:
        return body
    data = getattr(response, "data", None)
    return data[:ERROR_BODY_LIMIT] if isinstance(data, bytes) else b""


#: The code a body-less 404 gets from the route it answered (every HEAD is body-less).
_ROUTE_CODES = (
    ("/blobs/uploads/", ErrorCode.BLOB_UPLOAD_UNKNOWN),
    ("/manifests/", ErrorCode.MANIFEST_UNKNOWN),
    ("/blobs/", ErrorCode.BLOB_UNKNOWN),
    ("/tags/list", ErrorCode.NAME_UNKNOWN),
    ("/referrers/", ErrorCode.MANIFEST_UNKNOWN),
)


def status_diagnostic(status: int, url: str) -> Diagnostic:
    """The diagnostic a status means when the registry sent none (a HEAD, an empty body).

    401 UNAUTHORIZED, 403 DENIED, 429 TOOMANYREQUESTS; a 404 is named from the route
    (`MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `NAME_UNKNOWN`, `BLOB_UPLOAD_UNKNOWN`); else
    UNKNOWN.
    """
    if status in _STATUS_CODES:
        return Diagnostic(_STATUS_CODES[status])
    if status == 404:
        path = url.split("?", 1)[0]
        for fragment, code in _ROUTE_CODES:
            if fragment in path:
                return Diagnostic(code)
    return Diagnostic(ErrorCode.UNKNOWN)


def check_error(response: ResponseLike, *expected: int, method: str = "", url: str = "") -> None:
    """Raise a RegistryResponseError unless the status is one of *expected* (default 200).

    This is the one place where a status becomes an exception. The body is read up to
    64 KiB and decoded leniently: JSON ``{"errors": [...]}`` envelopes become
    diagnostics; an empty, non-JSON or HEAD body gets a code chosen from the status; a
    bearer ``error=`` in ``WWW-Authenticate`` is added first.
    """
    status = response.status
    if status in (expected or (200,)):
        return
    if not url:  # urllib3 responses know the URL they answer
        found = getattr(response, "url", None)
        url = found if isinstance(found, str) else ""
    body = b"" if method.upper() == "HEAD" else _error_body(response)
    diagnostics = list(_decode_diagnostics(body) or ()) if body else []
    if not diagnostics and 400 <= status < 500:
        diagnostics.append(status_diagnostic(status, url))
    bearer = _bearer_error(response.headers) if status in (401, 403) else None
    if bearer is not None:
        diagnostics = [d for d in diagnostics if d.code != bearer.code or d.message]
        diagnostics.insert(0, bearer)
    cls = Unauthorized if status == 401 else RegistryResponseError
    raise cls(
        status=status,
        diagnostics=tuple(diagnostics),
        method=method,
        url=url,
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )
