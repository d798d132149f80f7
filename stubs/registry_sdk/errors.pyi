import attrs
import enum
from _typeshed import Incomplete
from collections.abc import Mapping
from registry_sdk._check import check_error as check_error
from typing import Any, Protocol

__all__ = ['AuthenticationError', 'ConcurrentUpdate', 'CredentialHelperError', 'CredentialsError', 'Diagnostic', 'DigestMismatch', 'ErrorCode', 'InvalidChallenge', 'InvalidReference', 'InvalidResponse', 'InvalidScope', 'MissingReferences', 'ReferenceErrorKind', 'RegistryError', 'RegistryResponseError', 'ResponseLike', 'SecurityError', 'TokenExchangeError', 'TransportError', 'TransportTimeout', 'UnsupportedOperation', 'UploadError', 'check_error']

class RegistryError(Exception):
    message: Incomplete
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
    kind: Incomplete
    source: Incomplete
    span: Incomplete
    def __init__(self, message: str, *, kind: ReferenceErrorKind, source: str, span: tuple[int, int]) -> None: ...

class InvalidScope(RegistryError, ValueError):
    source: Incomplete
    def __init__(self, message: str, *, source: str = '') -> None: ...

class InvalidChallenge(RegistryError, ValueError):
    source: Incomplete
    position: Incomplete
    def __init__(self, message: str, *, source: str = '', position: int = 0) -> None: ...

class CredentialsError(RegistryError):
    source: Incomplete
    registry: Incomplete
    def __init__(self, message: str, *, source: str = '', registry: str = '') -> None: ...

class CredentialHelperError(CredentialsError):
    helper: Incomplete
    def __init__(self, message: str, *, helper: str, registry: str = '') -> None: ...

class SecurityError(RegistryError):
    rule: Incomplete
    url: Incomplete
    def __init__(self, message: str, *, rule: str, url: str = '') -> None: ...

class TransportError(RegistryError):
    method: Incomplete
    url: Incomplete
    def __init__(self, message: str, *, method: str = '', url: str = '') -> None: ...

class TransportTimeout(TransportError): ...

class AuthenticationError(RegistryError):
    registry: Incomplete
    def __init__(self, message: str, *, registry: str = '') -> None: ...

class TokenExchangeError(AuthenticationError):
    realm: Incomplete
    status: Incomplete
    def __init__(self, message: str, *, registry: str = '', realm: str = '', status: int | None = None) -> None: ...

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

@attrs.frozen
class Diagnostic:
    code: ErrorCode | str
    message: str = ...
    detail: Any = attrs.field(default=None, eq=False)

class RegistryResponseError(RegistryError):
    status: Incomplete
    diagnostics: Incomplete
    method: Incomplete
    url: Incomplete
    retry_after: Incomplete
    message: Incomplete
    def __init__(self, message: str = '', *, status: int, diagnostics: tuple[Diagnostic, ...] = (), method: str = '', url: str = '', retry_after: float | None = None) -> None: ...
    @property
    def codes(self) -> tuple[ErrorCode | str, ...]: ...
    @property
    def is_temporary(self) -> bool: ...

class InvalidResponse(RegistryError):
    what: Incomplete
    errors: Incomplete
    def __init__(self, message: str, *, what: str = '', errors: tuple[str, ...] = ()) -> None: ...

class DigestMismatch(InvalidResponse):
    expected: Incomplete
    actual: Incomplete
    def __init__(self, message: str = '', *, expected: str, actual: str, what: str = '') -> None: ...

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
