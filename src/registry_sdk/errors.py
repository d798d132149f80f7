"""The one exception tree of registry-sdk, and `check_error`.

```
RegistryError
├── InvalidReference (ValueError)      kind, source, span
├── InvalidScope (ValueError)          source
├── InvalidChallenge (ValueError)      source
├── InvalidPlatform (ValueError)       source
├── CredentialsError                   source (file, key or helper), registry
│   └── CredentialHelperError          helper
├── SecurityError                      rule, url (redacted): refused before sending
├── TransportError                     method, url (redacted); the cause is __cause__
│   └── TransportTimeout
├── AuthenticationError                registry, username, origin (never a secret)
│   ├── TokenExchangeError             realm (redacted), status
│   └── Unauthorized (also a RegistryResponseError: a 401)
├── RegistryResponseError              method, url, status, diagnostics, retry_after
├── NoMatchingPlatform (LookupError)   wanted, available, digest
├── InvalidResponse                    what, errors
│   ├── DigestMismatch                 expected, actual
│   └── ManifestKindMismatch           expected, found, digest, media_type
├── UploadError                        repository, digest: an upload that cannot finish
├── MissingReferences                  repository, missing: rule 8 refused a manifest
├── UnsupportedOperation               operation, registry, use_instead
└── ConcurrentUpdate                   reference: a shared index kept changing
```

Every exception keeps its data as attributes, pickles, and never carries a password,
token, refresh token or `auth` field in its message. URLs are redacted before they are
stored.

This module is a facade: the classes live in `registry_sdk._errors` (which imports
nothing of the package, so the reference parser can raise them cheaply) and
[check_error][registry_sdk.errors.check_error] in `registry_sdk._check` (which needs the
challenge parser). Both are re-exported here under this module's name.
"""

from __future__ import annotations

from registry_sdk._check import check_error
from registry_sdk._errors import (
    AuthenticationError,
    ConcurrentUpdate,
    CredentialHelperError,
    CredentialsError,
    Diagnostic,
    DigestMismatch,
    ErrorCode,
    InvalidChallenge,
    InvalidPlatform,
    InvalidReference,
    InvalidResponse,
    InvalidScope,
    ManifestKindMismatch,
    MissingReferences,
    NoMatchingPlatform,
    ReferenceErrorKind,
    RegistryError,
    RegistryResponseError,
    ResponseLike,
    SecurityError,
    TokenExchangeError,
    TransportError,
    TransportTimeout,
    Unauthorized,
    UnsupportedOperation,
    UploadError,
)

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
    "check_error",
]


# Show (and pickle) the classes under the public module, as httpx does for its exports.
def _adopt(names: list[str]) -> None:
    for name in names:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith("registry_sdk._"):
            obj.__module__ = __name__


_adopt(__all__)


def __dir__() -> list[str]:
    return __all__
