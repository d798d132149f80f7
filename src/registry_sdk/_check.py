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
    _code,
)
from registry_sdk.challenge import parse_challenges

__all__ = ["ERROR_BODY_LIMIT", "check_error", "preloaded_body"]

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
            code = {"invalid_token": ErrorCode.UNAUTHORIZED,
                    "insufficient_scope": ErrorCode.DENIED}.get(err or "")
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
                out.append(Diagnostic(_code(entry["code"]),
                                      message if isinstance(message, str) else "",
                                      entry.get("detail")))
        return tuple(out)
    details = doc.get("details")
    if isinstance(details, str):
        return (Diagnostic(ErrorCode.UNKNOWN, details),)
    return None


def preloaded_body(response: object) -> bytes | None:
    """The body a urllib3 response already holds (read with preload_content=True).

    Such a response keeps its body in `_body` and `read()` then returns b"".
    """
    body = getattr(response, "_body", None)
    return body if isinstance(body, bytes) else None


def _read_capped(response: ResponseLike) -> bytes:
    cached = preloaded_body(response)
    if cached is not None:
        return cached[:ERROR_BODY_LIMIT]
    try:
        return response.read(ERROR_BODY_LIMIT)
    except Exception:  # noqa: BLE001 (a broken error body decodes as empty; the status
        return b""     # still becomes a typed error, and this module imports no urllib3)


def check_error(
    response: ResponseLike, *expected: int, method: str = "", url: str = ""
) -> None:
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
    body = b"" if method.upper() == "HEAD" else _read_capped(response)
    diagnostics = list(_decode_diagnostics(body) or ()) if body else []
    if not diagnostics and status in _STATUS_CODES:
        diagnostics.append(Diagnostic(_STATUS_CODES[status]))
    elif not diagnostics and 400 <= status < 500:
        diagnostics.append(Diagnostic(ErrorCode.UNKNOWN))
    bearer = _bearer_error(response.headers) if status in (401, 403) else None
    if bearer is not None:
        diagnostics = [d for d in diagnostics if d.code != bearer.code or d.message]
        diagnostics.insert(0, bearer)
    raise RegistryResponseError(
        status=status,
        diagnostics=tuple(diagnostics),
        method=method,
        url=url,
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )
