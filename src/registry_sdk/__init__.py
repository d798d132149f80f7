"""registry-sdk: a typed client for OCI / Docker container registries.

Only the names (`registry_sdk.name`) are imported eagerly: they cost the standard
library alone. Everything else, the errors included (the `errors` facade loads the
challenge parser and attrs), is imported on first use through a module `__getattr__`, so
that `import registry_sdk.name` stays light for tools that only parse references.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from registry_sdk.name import (
    Digest,
    Reference,
    Registry,
    Repository,
    Tag,
    parse_reference,
    split_reference,
)

if TYPE_CHECKING:
    from registry_sdk.authn import (
        ANONYMOUS,
        Authenticator,
        Basic,
        Bearer,
        Credentials,
        DefaultKeychain,
        IdentityToken,
        Keychain,
        MultiKeychain,
        StaticKeychain,
    )
    from registry_sdk.client import (
        BlobReader,
        Client,
        default_client,
        set_default_client,
    )
    from registry_sdk.errors import (
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
        SecurityError,
        TokenExchangeError,
        TransportError,
        TransportTimeout,
        Unauthorized,
        UnsupportedOperation,
        UploadError,
        check_error,
    )
    from registry_sdk.models import (
        Descriptor,
        ImageConfig,
        ImageIndex,
        ImageManifest,
        Manifest,
        Platform,
    )
    from registry_sdk.progress import (
        Progress,
        ProgressAction,
        ProgressEvent,
    )
    from registry_sdk.scope import (
        Action,
        Scope,
    )
    from registry_sdk.transport import (
        Transport,
    )

__all__ = [
    "ANONYMOUS",
    "Action",
    "AuthenticationError",
    "Authenticator",
    "Basic",
    "Bearer",
    "BlobReader",
    "Client",
    "ConcurrentUpdate",
    "CredentialHelperError",
    "Credentials",
    "CredentialsError",
    "DefaultKeychain",
    "Descriptor",
    "Diagnostic",
    "Digest",
    "DigestMismatch",
    "ErrorCode",
    "IdentityToken",
    "ImageConfig",
    "ImageIndex",
    "ImageManifest",
    "InvalidChallenge",
    "InvalidPlatform",
    "InvalidReference",
    "InvalidResponse",
    "InvalidScope",
    "Keychain",
    "Manifest",
    "ManifestKindMismatch",
    "MissingReferences",
    "MultiKeychain",
    "NoMatchingPlatform",
    "Platform",
    "Progress",
    "ProgressAction",
    "ProgressEvent",
    "Reference",
    "ReferenceErrorKind",
    "Registry",
    "RegistryError",
    "RegistryResponseError",
    "Repository",
    "Scope",
    "SecurityError",
    "StaticKeychain",
    "Tag",
    "TokenExchangeError",
    "Transport",
    "TransportError",
    "TransportTimeout",
    "Unauthorized",
    "UnsupportedOperation",
    "UploadError",
    "__version__",
    "check_error",
    "default_client",
    "parse_reference",
    "set_default_client",
    "split_reference",
]

#: Where each lazily re-exported name lives.
_LAZY = {
    "Action": "registry_sdk.scope",
    "Scope": "registry_sdk.scope",
    "BlobReader": "registry_sdk.client",
    "Client": "registry_sdk.client",
    "default_client": "registry_sdk.client",
    "set_default_client": "registry_sdk.client",
    "Descriptor": "registry_sdk.models",
    "ImageConfig": "registry_sdk.models",
    "ImageIndex": "registry_sdk.models",
    "ImageManifest": "registry_sdk.models",
    "Manifest": "registry_sdk.models",
    "Platform": "registry_sdk.models",
    "Progress": "registry_sdk.progress",
    "ProgressAction": "registry_sdk.progress",
    "ProgressEvent": "registry_sdk.progress",
    "Transport": "registry_sdk.transport",
    "ANONYMOUS": "registry_sdk.authn",
    "Authenticator": "registry_sdk.authn",
    "Basic": "registry_sdk.authn",
    "Bearer": "registry_sdk.authn",
    "Credentials": "registry_sdk.authn",
    "DefaultKeychain": "registry_sdk.authn",
    "IdentityToken": "registry_sdk.authn",
    "Keychain": "registry_sdk.authn",
    "MultiKeychain": "registry_sdk.authn",
    "StaticKeychain": "registry_sdk.authn",
    "AuthenticationError": "registry_sdk.errors",
    "ConcurrentUpdate": "registry_sdk.errors",
    "CredentialHelperError": "registry_sdk.errors",
    "CredentialsError": "registry_sdk.errors",
    "Diagnostic": "registry_sdk.errors",
    "DigestMismatch": "registry_sdk.errors",
    "ErrorCode": "registry_sdk.errors",
    "InvalidChallenge": "registry_sdk.errors",
    "InvalidPlatform": "registry_sdk.errors",
    "InvalidReference": "registry_sdk.errors",
    "InvalidResponse": "registry_sdk.errors",
    "InvalidScope": "registry_sdk.errors",
    "ManifestKindMismatch": "registry_sdk.errors",
    "MissingReferences": "registry_sdk.errors",
    "NoMatchingPlatform": "registry_sdk.errors",
    "ReferenceErrorKind": "registry_sdk.errors",
    "RegistryError": "registry_sdk.errors",
    "RegistryResponseError": "registry_sdk.errors",
    "SecurityError": "registry_sdk.errors",
    "TokenExchangeError": "registry_sdk.errors",
    "TransportError": "registry_sdk.errors",
    "TransportTimeout": "registry_sdk.errors",
    "Unauthorized": "registry_sdk.errors",
    "UnsupportedOperation": "registry_sdk.errors",
    "UploadError": "registry_sdk.errors",
    "check_error": "registry_sdk.errors",
}


def __getattr__(name: str) -> Any:  # noqa: ANN401 (lazy re-export of any object)
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415

        return version("registry-sdk")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'registry_sdk' has no attribute {name!r}")
    import importlib  # noqa: PLC0415 (only on first use of a lazy name)

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
