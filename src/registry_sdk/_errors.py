"""The exception classes; `registry_sdk.errors` re-exports them and draws the tree.

This module imports nothing of the package but `_redact`, and no attrs, so the reference
parser can raise `InvalidReference` without loading anything heavy.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from registry_sdk._redact import redact_url

__all__ = [
    "AuthenticationError",
    "ConcurrentUpdate",
    "CredentialHelperError",
    "CredentialsError",
    "Diagnostic",
    "DigestMismatch",
    "ErrorCode",
    "InvalidChallenge",
    "InvalidPlatform",
    "InvalidReference",
    "InvalidResponse",
    "InvalidScope",
    "ManifestKindMismatch",
    "MissingReferences",
    "NoMatchingPlatform",
    "ReferenceErrorKind",
    "RegistryError",
    "RegistryResponseError",
    "ResponseLike",
    "SecurityError",
    "TokenExchangeError",
    "TransportError",
    "TransportTimeout",
    "Unauthorized",
    "UnsupportedOperation",
    "UploadError",
]


def _restore(cls: type[RegistryError], kwargs: dict[str, Any]) -> RegistryError:
    return cls(**kwargs)


class RegistryError(Exception):
    """Root of every exception raised by registry-sdk."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Every subclass keeps its __init__ arguments as attributes of the same names, so
        # pickling rebuilds the exception from them (urllib3 and packaging do this by hand).
        import inspect  # noqa: PLC0415 (only when pickling)

        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return (_restore, (type(self), {n: getattr(self, n) for n in names}))


# --------------------------------------------------------------------------- parsing


class ReferenceErrorKind(enum.StrEnum):
    """Why a reference failed to parse; the names of distribution/reference's errors."""

    NAME_EMPTY = "name_empty"
    INVALID_REFERENCE_FORMAT = "invalid_reference_format"
    NAME_CONTAINS_UPPERCASE = "name_contains_uppercase"
    NAME_TOO_LONG = "name_too_long"
    NAME_NOT_CANONICAL = "name_not_canonical"
    TAG_INVALID_FORMAT = "tag_invalid_format"
    DIGEST_INVALID_FORMAT = "digest_invalid_format"
    DIGEST_INVALID_LENGTH = "digest_invalid_length"
    DIGEST_UNSUPPORTED = "digest_unsupported"
    IDENTIFIER_NOT_ALLOWED = "identifier_not_allowed"


def _display(source: str, span: tuple[int, int], width: int = 120) -> tuple[str, int, int]:
    """Escape unprintable characters and window long input, keeping span offsets."""
    start, end = span
    lo = max(0, min(start, len(source)) - width // 2)
    hi = min(len(source), max(end + width // 2, lo + width))
    out: list[str] = ["..."] if lo else []
    pos = 3 if lo else 0
    new_start = new_end = pos
    for i in range(lo, hi + 1):
        if i == start:
            new_start = pos
        if i == end:
            new_end = pos
        if i < hi:
            ch = source[i]
            text = ch if ch.isprintable() and ch.isascii() else repr(ch)[1:-1]
            out.append(text)
            pos += len(text)
    if hi < len(source):
        out.append("...")
    return "".join(out), new_start, max(new_end, new_start)


class InvalidReference(RegistryError, ValueError):
    """A string is not a valid registry, repository, tag or digest reference.

    Attributes:
        kind: why (a [ReferenceErrorKind][registry_sdk.errors.ReferenceErrorKind]).
        source: the string that was parsed.
        span: ``(start, end)`` offsets of the offending characters in ``source``.
        message: the one-line explanation, without the drawing.
    """

    def __init__(
        self, message: str, *, kind: ReferenceErrorKind, source: str, span: tuple[int, int]
    ) -> None:
        super().__init__(message)
        self.kind = ReferenceErrorKind(kind)
        self.source = source
        self.span = span

    def __str__(self) -> str:
        shown, start, end = _display(self.source, self.span)
        marker = " " * start + "~" * max(0, end - start - 1) + "^"
        return f"{self.message}\n    {shown}\n    {marker}"


class InvalidScope(RegistryError, ValueError):
    """A token scope string does not follow ``type:name:actions``."""

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message)
        self.source = source


class InvalidChallenge(RegistryError, ValueError):
    """A ``WWW-Authenticate`` header does not follow RFC 7235."""

    def __init__(self, message: str, *, source: str = "", position: int = 0) -> None:
        super().__init__(message)
        self.source = source
        self.position = position


# ----------------------------------------------------------------------- credentials


class CredentialsError(RegistryError):
    """Credentials could not be loaded: a bad config file, key or helper answer.

    ``source`` names where (a file path and key, or a helper), never the secret.
    """

    def __init__(self, message: str, *, source: str = "", registry: str = "") -> None:
        super().__init__(message)
        self.source = source
        self.registry = registry


class CredentialHelperError(CredentialsError):
    """A ``docker-credential-*`` helper is missing, failed, timed out or answered badly."""

    def __init__(self, message: str, *, helper: str, registry: str = "") -> None:
        super().__init__(message, source=helper, registry=registry)
        self.helper = helper


# ------------------------------------------------------------------------- transport


class SecurityError(RegistryError):
    """A request was refused by a security rule before anything was sent.

    ``rule`` is a short identifier (``plain-http``, ``realm``, ``cross-host``,
    ``redirect``); ``url`` is redacted.
    """

    def __init__(self, message: str, *, rule: str, url: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.url = redact_url(url) if url else ""


class TransportError(RegistryError):
    """The connection failed (refused, reset, TLS, too many retries); see ``__cause__``."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.url = redact_url(url) if url else ""


class TransportTimeout(TransportError):
    """Connecting or reading took longer than the configured timeout."""


class AuthenticationError(RegistryError):
    """The registry refused our credentials, or offered no usable way to authenticate.

    Attributes:
        registry: the registry's name.
        username: the username sent (empty when anonymous, or for a token).
        origin: where the credentials came from (a file and key, a helper, or code);
            empty when anonymous or unknown. Never a secret.
    """

    def __init__(
        self, message: str, *, registry: str = "", username: str = "", origin: str = ""
    ) -> None:
        super().__init__(message)
        self.registry = registry
        self.username = username
        self.origin = origin


class TokenExchangeError(AuthenticationError):
    """The token server failed to issue a token. Its body is never echoed."""

    def __init__(
        self,
        message: str,
        *,
        registry: str = "",
        realm: str = "",
        status: int | None = None,
        username: str = "",
        origin: str = "",
    ) -> None:
        super().__init__(message, registry=registry, username=username, origin=origin)
        self.realm = redact_url(realm) if realm else ""
        self.status = status


# -------------------------------------------------------------------- registry errors


class ErrorCode(enum.StrEnum):
    """The error codes of the OCI distribution spec and distribution's registry."""

    BLOB_UNKNOWN = "BLOB_UNKNOWN"
    BLOB_UPLOAD_INVALID = "BLOB_UPLOAD_INVALID"
    BLOB_UPLOAD_UNKNOWN = "BLOB_UPLOAD_UNKNOWN"
    DIGEST_INVALID = "DIGEST_INVALID"
    MANIFEST_BLOB_UNKNOWN = "MANIFEST_BLOB_UNKNOWN"
    MANIFEST_INVALID = "MANIFEST_INVALID"
    MANIFEST_UNKNOWN = "MANIFEST_UNKNOWN"
    MANIFEST_UNVERIFIED = "MANIFEST_UNVERIFIED"
    NAME_INVALID = "NAME_INVALID"
    NAME_UNKNOWN = "NAME_UNKNOWN"
    SIZE_INVALID = "SIZE_INVALID"
    TAG_INVALID = "TAG_INVALID"
    UNAUTHORIZED = "UNAUTHORIZED"
    DENIED = "DENIED"
    UNSUPPORTED = "UNSUPPORTED"
    TOOMANYREQUESTS = "TOOMANYREQUESTS"
    UNKNOWN = "UNKNOWN"
    UNAVAILABLE = "UNAVAILABLE"
    RANGE_INVALID = "RANGE_INVALID"
    PAGINATION_NUMBER_INVALID = "PAGINATION_NUMBER_INVALID"


#: Codes that say "try again later" whatever the status (an upload session gone bad is
#: started again; UNKNOWN is not here: a 4xx the registry cannot name is not temporary).
_TEMPORARY_CODES = frozenset(
    {ErrorCode.BLOB_UPLOAD_INVALID, ErrorCode.TOOMANYREQUESTS, ErrorCode.UNAVAILABLE}
)


class Diagnostic:
    """One entry of a registry's ``{"errors": [...]}`` body.

    ``code`` is an [ErrorCode][registry_sdk.errors.ErrorCode] when known, else the raw
    string the registry sent. Equal on ``code`` and ``message``; ``detail`` is kept as the
    registry sent it (any JSON value) and does not take part in equality.
    """

    __slots__ = ("code", "detail", "message")

    code: ErrorCode | str
    message: str
    detail: Any

    def __init__(self, code: ErrorCode | str, message: str = "", detail: Any = None) -> None:  # noqa: ANN401 (any JSON value)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "detail", detail)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Diagnostic is immutable; cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return (self.code, self.message) == (other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.message))

    def __repr__(self) -> str:
        return f"Diagnostic(code={self.code!r}, message={self.message!r}, detail={self.detail!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Diagnostic, (self.code, self.message, self.detail))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else str(self.code)


def _code(value: object) -> ErrorCode | str:
    text = str(value)
    try:
        return ErrorCode(text)
    except ValueError:
        return text


class RegistryResponseError(RegistryError):
    """The registry answered with an unexpected status.

    Attributes:
        status: the HTTP status.
        diagnostics: the registry's error entries (possibly synthesised from the status).
        method, url: the request (the URL redacted).
        retry_after: seconds from a ``Retry-After`` header, if any.
    """

    def __init__(
        self,
        message: str = "",
        *,
        status: int,
        diagnostics: tuple[Diagnostic, ...] = (),
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.diagnostics = tuple(diagnostics)
        self.method = method
        self.url = redact_url(url) if url else ""
        self.retry_after = retry_after
        self.message = message or self._render()
        super().__init__(self.message)

    def _render(self) -> str:
        where = " ".join(p for p in (self.method, self.url) if p)
        where = f"{where}: " if where else ""
        if not self.diagnostics:
            return f"{where}unexpected status {self.status}"
        if len(self.diagnostics) == 1:
            return f"{where}{self.diagnostics[0]} (status {self.status})"
        joined = "; ".join(str(d) for d in self.diagnostics)
        return f"{where}multiple errors returned: {joined} (status {self.status})"

    @property
    def codes(self) -> tuple[ErrorCode | str, ...]:
        """The codes of all diagnostics, in order."""
        return tuple(d.code for d in self.diagnostics)

    @property
    def is_temporary(self) -> bool:
        """Whether retrying later may succeed.

        True for 408, 429 and 5xx, or when every diagnostic has a temporary code
        (`TOOMANYREQUESTS`, `UNAVAILABLE`, `BLOB_UPLOAD_INVALID`); a missing manifest or
        blob is never temporary.
        """
        if self.status in (408, 429) or 500 <= self.status < 600:
            return True
        return bool(self.diagnostics) and all(d.code in _TEMPORARY_CODES for d in self.diagnostics)


class Unauthorized(AuthenticationError, RegistryResponseError):
    """The registry answered 401: the credentials were refused, or none were sent.

    Both an [AuthenticationError][registry_sdk.errors.AuthenticationError] (who, from
    where) and a [RegistryResponseError][registry_sdk.errors.RegistryResponseError]
    (status, diagnostics); the message says which user and where their credentials came
    from, or that the request was anonymous.
    """

    def __init__(
        self,
        message: str = "",
        *,
        status: int = 401,
        diagnostics: tuple[Diagnostic, ...] = (),
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
        registry: str = "",
        username: str = "",
        origin: str = "",
    ) -> None:
        RegistryResponseError.__init__(
            self,
            message,
            status=status,
            diagnostics=diagnostics,
            method=method,
            url=url,
            retry_after=retry_after,
        )
        self.registry = registry
        self.username = username
        self.origin = origin


class InvalidResponse(RegistryError):
    """A response could not be understood (bad JSON, wrong shape, too large).

    ``errors`` lists what was wrong, with JSON paths where known.
    """

    def __init__(self, message: str, *, what: str = "", errors: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.what = what
        self.errors = tuple(errors)


class DigestMismatch(InvalidResponse):
    """Content does not hash to the digest it was requested by or announced with."""

    def __init__(self, message: str = "", *, expected: str, actual: str, what: str = "") -> None:
        super().__init__(
            message or f"{what or 'content'} digest {actual} does not match expected {expected}",
            what=what,
        )
        self.expected = expected
        self.actual = actual


# ----------------------------------------------------------------------- check_error


class ResponseLike(Protocol):
    """What [check_error][registry_sdk.errors.check_error] needs of a response.

    urllib3's ``BaseHTTPResponse`` satisfies it.
    """

    @property
    def status(self) -> int:
        """The HTTP status."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (case-insensitive mapping)."""

    def read(self, amt: int | None = None) -> bytes:
        """Read up to *amt* bytes of the body."""


# ------------------------------------------------------------- platforms and manifests

if TYPE_CHECKING:  # pragma: no cover (annotations only; models imports this module)
    from registry_sdk.models import Platform


class InvalidPlatform(RegistryError, ValueError):
    """A platform specifier (``linux/arm64``, ``windows(10.0.17763)/amd64``) is invalid.

    Attributes:
        source: the string that was parsed.
    """

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message)
        self.source = source


class ManifestKindMismatch(InvalidResponse):
    """A manifest is an image where an index was needed, or the other way round.

    Attributes:
        expected: the kind asked for, ``"image"`` or ``"index"``.
        found: the kind the manifest is.
        digest: the manifest's digest.
        media_type: the manifest's media type.
    """

    def __init__(
        self,
        message: str = "",
        *,
        expected: str,
        found: str,
        digest: str = "",
        media_type: str = "",
    ) -> None:
        super().__init__(
            message
            or (
                f"manifest {digest or '(no digest)'} is an {found} "
                f"({media_type or 'no media type'}), not an {expected}"
            ),
            what="manifest",
        )
        self.expected = expected
        self.found = found
        self.digest = digest
        self.media_type = media_type


class NoMatchingPlatform(RegistryError, LookupError):
    """No child of an index is for the wanted platform, or none was wanted among several.

    Attributes:
        wanted: the platform asked for (``None`` when none was given).
        available: the platforms the index offers, in index order.
        digest: the index's digest, when known.
    """

    def __init__(
        self,
        message: str = "",
        *,
        wanted: Platform | None,
        available: tuple[Platform, ...] = (),
        digest: str = "",
    ) -> None:
        self.wanted = wanted
        self.available = tuple(available)
        self.digest = digest
        super().__init__(message or self._render())

    def _render(self) -> str:
        where = f"index {self.digest}" if self.digest else "the index"
        listed = ", ".join(str(p) for p in self.available)
        if self.wanted is not None:
            return f"{where} has no image for {self.wanted}; available: {listed or 'none'}"
        if not self.available:
            return f"{where} has no image of any platform"
        return (
            f"{where} has several platforms and none was chosen (pass platform= or "
            f"--platform); available: {listed}"
        )


# --------------------------------------------------------------------------- writing


class UploadError(RegistryError):
    """A blob upload could not be completed (the session is cancelled when possible).

    ``repository`` is the destination, ``digest`` the blob's digest when it is known.
    """

    def __init__(self, message: str, *, repository: str, digest: str | None = None) -> None:
        super().__init__(message)
        self.repository = repository
        self.digest = digest


class MissingReferences(RegistryError):
    """A manifest was not put: content it points to is missing (security rule 8).

    ``missing`` lists the digests of the blobs or child manifests absent from
    ``repository``; nothing was written.
    """

    def __init__(self, message: str = "", *, repository: str, missing: tuple[str, ...]) -> None:
        missing = tuple(missing)
        super().__init__(
            message
            or (
                f"not putting the manifest: {repository} lacks {len(missing)} referenced "
                f"blob(s) or manifest(s): {', '.join(missing)}"
            )
        )
        self.repository = repository
        self.missing = missing


class UnsupportedOperation(RegistryError):
    """The registry does not support this operation.

    ``operation`` names it (e.g. ``delete tag``); ``use_instead`` names what to do
    instead when there is a way (e.g. the digest reference to delete).
    """

    def __init__(
        self, message: str, *, operation: str, registry: str = "", use_instead: str | None = None
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.registry = registry
        self.use_instead = use_instead


class ConcurrentUpdate(RegistryError):
    """Another writer kept replacing a shared document (the referrers fallback index).

    ``reference`` names the tag that could not be updated without losing an entry.
    """

    def __init__(self, message: str, *, reference: str) -> None:
        super().__init__(message)
        self.reference = reference


def _public_home() -> None:
    """Show (and pickle) every class here as `registry_sdk.errors.X`, its public home.

    Done here rather than in the facade: the reference parser raises InvalidReference
    without importing `registry_sdk.errors`, and a traceback should not name this module.
    """
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "") == __name__:
            obj.__module__ = "registry_sdk.errors"


_public_home()
