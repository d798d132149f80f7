import enum
from collections.abc import Mapping
from registry_sdk.models import Platform
from typing import Any, Protocol

__all__ = ['AuthenticationError', 'CredentialHelperError', 'CredentialsError', 'Diagnostic', 'DigestMismatch', 'ErrorCode', 'InvalidChallenge', 'InvalidPlatform', 'InvalidReference', 'InvalidResponse', 'InvalidScope', 'ManifestKindMismatch', 'NoMatchingPlatform', 'ReferenceErrorKind', 'RegistryError', 'RegistryResponseError', 'ResponseLike', 'SecurityError', 'TokenExchangeError', 'TransportError', 'TransportTimeout', 'Unauthorized', 'check_error']
__all__ = ['AuthenticationError', 'ConcurrentUpdate', 'CredentialHelperError', 'CredentialsError', 'Diagnostic', 'DigestMismatch', 'ErrorCode', 'InvalidChallenge', 'InvalidReference', 'InvalidResponse', 'InvalidScope', 'MissingReferences', 'ReferenceErrorKind', 'RegistryError', 'RegistryResponseError', 'ResponseLike', 'SecurityError', 'TokenExchangeError', 'TransportError', 'TransportTimeout', 'UnsupportedOperation', 'UploadError', 'check_error']

class RegistryError(Exception):
    message: str
    def __init__(self, message: str = '') -> None: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

class ReferenceErrorKind(enum.StrEnum):
    NAME_EMPTY = 'name_empty'
    INVALID_REFERENCE_FORMAT = 'invalid_reference_format'
    NAME_CONTAINS_UPPERCASE = 'name_contains_uppercase'
    NAME_TOO_LONG = 'name_too_long'
    NAME_NOT_CANONICAL = 'name_not_canonical'
    TAG_INVALID_FORMAT = 'tag_invalid_format'
    DIGEST_INVALID_FORMAT = 'digest_invalid_format'
    DIGEST_INVALID_LENGTH = 'digest_invalid_length'
    DIGEST_UNSUPPORTED = 'digest_unsupported'
    IDENTIFIER_NOT_ALLOWED = 'identifier_not_allowed'

class InvalidReference(RegistryError, ValueError):
    kind: ReferenceErrorKind
    source: str
    span: tuple[int, int]
    def __init__(self, message: str, *, kind: ReferenceErrorKind, source: str, span: tuple[int, int]) -> None: ...

class InvalidScope(RegistryError, ValueError):
    source: str
    def __init__(self, message: str, *, source: str = '') -> None: ...

class InvalidChallenge(RegistryError, ValueError):
    source: str
    position: int
    def __init__(self, message: str, *, source: str = '', position: int = 0) -> None: ...

class CredentialsError(RegistryError):
    source: str
    registry: str
    def __init__(self, message: str, *, source: str = '', registry: str = '') -> None: ...

class CredentialHelperError(CredentialsError):
    helper: str
    def __init__(self, message: str, *, helper: str, registry: str = '') -> None: ...

class SecurityError(RegistryError):
    rule: str
    url: str
    def __init__(self, message: str, *, rule: str, url: str = '') -> None: ...

class TransportError(RegistryError):
    method: str
    url: str
    def __init__(self, message: str, *, method: str = '', url: str = '') -> None: ...

class TransportTimeout(TransportError): ...

class AuthenticationError(RegistryError):
    registry: str
    username: str
    origin: str
    def __init__(self, message: str, *, registry: str = '', username: str = '', origin: str = '') -> None: ...

class TokenExchangeError(AuthenticationError):
    realm: str
    status: int | None
    def __init__(self, message: str, *, registry: str = '', realm: str = '', status: int | None = None, username: str = '', origin: str = '') -> None: ...

class ErrorCode(enum.StrEnum):
    BLOB_UNKNOWN = 'BLOB_UNKNOWN'
    BLOB_UPLOAD_INVALID = 'BLOB_UPLOAD_INVALID'
    BLOB_UPLOAD_UNKNOWN = 'BLOB_UPLOAD_UNKNOWN'
    DIGEST_INVALID = 'DIGEST_INVALID'
    MANIFEST_BLOB_UNKNOWN = 'MANIFEST_BLOB_UNKNOWN'
    MANIFEST_INVALID = 'MANIFEST_INVALID'
    MANIFEST_UNKNOWN = 'MANIFEST_UNKNOWN'
    MANIFEST_UNVERIFIED = 'MANIFEST_UNVERIFIED'
    NAME_INVALID = 'NAME_INVALID'
    NAME_UNKNOWN = 'NAME_UNKNOWN'
    SIZE_INVALID = 'SIZE_INVALID'
    TAG_INVALID = 'TAG_INVALID'
    UNAUTHORIZED = 'UNAUTHORIZED'
    DENIED = 'DENIED'
    UNSUPPORTED = 'UNSUPPORTED'
    TOOMANYREQUESTS = 'TOOMANYREQUESTS'
    UNKNOWN = 'UNKNOWN'
    UNAVAILABLE = 'UNAVAILABLE'
    RANGE_INVALID = 'RANGE_INVALID'
    PAGINATION_NUMBER_INVALID = 'PAGINATION_NUMBER_INVALID'

class Diagnostic:
    @property
    def code(self) -> ErrorCode | str: ...
    @property
    def message(self) -> str: ...
    @property
    def detail(self) -> Any: ...
    def __init__(self, code: ErrorCode | str, message: str = '', detail: Any = None) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

class RegistryResponseError(RegistryError):
    status: int
    diagnostics: tuple[Diagnostic, ...]
    method: str
    url: str
    retry_after: float | None
    message: str
    def __init__(self, message: str = '', *, status: int, diagnostics: tuple[Diagnostic, ...] = (), method: str = '', url: str = '', retry_after: float | None = None) -> None: ...
    @property
    def codes(self) -> tuple[ErrorCode | str, ...]: ...
    @property
    def is_temporary(self) -> bool: ...

class Unauthorized(AuthenticationError, RegistryResponseError):
    def __init__(self, message: str = '', *, status: int = 401, diagnostics: tuple[Diagnostic, ...] = (), method: str = '', url: str = '', retry_after: float | None = None, registry: str = '', username: str = '', origin: str = '') -> None: ...

class InvalidResponse(RegistryError):
    what: str
    errors: tuple[str, ...]
    def __init__(self, message: str, *, what: str = '', errors: tuple[str, ...] = ()) -> None: ...

class DigestMismatch(InvalidResponse):
    expected: str
    actual: str
    def __init__(self, message: str = '', *, expected: str, actual: str, what: str = '') -> None: ...

class InvalidPlatform(RegistryError, ValueError):
    source: str
    def __init__(self, message: str, *, source: str = '') -> None: ...

class ManifestKindMismatch(InvalidResponse):
    expected: str
    found: str
    digest: str
    media_type: str
    def __init__(self, message: str = '', *, expected: str, found: str, digest: str = '', media_type: str = '') -> None: ...

class NoMatchingPlatform(RegistryError, LookupError):
    wanted: Platform | None
    available: tuple[Platform, ...]
    digest: str
    def __init__(self, message: str = '', *, wanted: Platform | None, available: tuple[Platform, ...] = (), digest: str = '') -> None: ...
class UploadError(RegistryError):
    repository: str
    digest: str | None
    def __init__(self, message: str, *, repository: str, digest: str | None = None) -> None: ...

class MissingReferences(RegistryError):
    repository: str
    missing: tuple[str, ...]
    def __init__(self, message: str = '', *, repository: str, missing: tuple[str, ...]) -> None: ...

class UnsupportedOperation(RegistryError):
    operation: str
    registry: str
    use_instead: str | None
    def __init__(self, message: str, *, operation: str, registry: str = '', use_instead: str | None = None) -> None: ...

class ConcurrentUpdate(RegistryError):
    reference: str
    def __init__(self, message: str, *, reference: str) -> None: ...

class ResponseLike(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    def read(self, amt: int | None = None) -> bytes: ...

def check_error(response: ResponseLike, *expected: int, method: str = '', url: str = '') -> None: ...
