"""registry-sdk: a typed client for OCI / Docker container registries.

Only the names (`registry_sdk.name`) are imported eagerly: they cost the standard
library alone. Everything else, the errors included (the `errors` facade loads the
challenge parser and attrs), is imported on first use through a module `__getattr__`, so
that `import registry_sdk.name` stays light for tools that only parse references.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from registry_sdk import _errors
from registry_sdk.name import (
    Digest,
    Reference,
    Registry,
    Repository,
    Tag,
    parse_reference,
    split_reference,
)


def _adopt_errors() -> None:
    """Show (and pickle) the exception classes as `registry_sdk.errors.X`.

    `registry_sdk.errors` does the same when imported, but the reference parser raises
    `InvalidReference` without importing that facade (it loads attrs), and a traceback
    should not name the private module.
    """
    for name in _errors.__all__:
        obj = getattr(_errors, name)
        if getattr(obj, "__module__", "") == _errors.__name__:
            obj.__module__ = "registry_sdk.errors"


_adopt_errors()

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
    from registry_sdk.client import Client, default_client
    from registry_sdk.errors import (
        AuthenticationError,
        CredentialHelperError,
        CredentialsError,
        Diagnostic,
        DigestMismatch,
        ErrorCode,
        InvalidChallenge,
        InvalidReference,
        InvalidResponse,
        InvalidScope,
        ReferenceErrorKind,
        RegistryError,
        RegistryResponseError,
        SecurityError,
        TokenExchangeError,
        TransportError,
        TransportTimeout,
        check_error,
    )
    from registry_sdk.models import Descriptor, ImageIndex, ImageManifest, Manifest, Platform
    from registry_sdk.scope import Action, Scope
    from registry_sdk.transport import Transport

__all__ = [
    "ANONYMOUS",
    "Action",
    "AuthenticationError",
    "Authenticator",
    "Basic",
    "Bearer",
    "Client",
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
    "ImageIndex",
    "ImageManifest",
    "InvalidChallenge",
    "InvalidReference",
    "InvalidResponse",
    "InvalidScope",
    "Keychain",
    "Manifest",
    "MultiKeychain",
    "Platform",
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
    "__version__",
    "check_error",
    "default_client",
    "parse_reference",
    "split_reference",
]

_LAZY = {
    "Action": "registry_sdk.scope",
    "Scope": "registry_sdk.scope",
    "Client": "registry_sdk.client",
    "default_client": "registry_sdk.client",
    "Descriptor": "registry_sdk.models",
    "ImageIndex": "registry_sdk.models",
    "ImageManifest": "registry_sdk.models",
    "Manifest": "registry_sdk.models",
    "Platform": "registry_sdk.models",
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
    "CredentialHelperError": "registry_sdk.errors",
    "CredentialsError": "registry_sdk.errors",
    "Diagnostic": "registry_sdk.errors",
    "DigestMismatch": "registry_sdk.errors",
    "ErrorCode": "registry_sdk.errors",
    "InvalidChallenge": "registry_sdk.errors",
    "InvalidReference": "registry_sdk.errors",
    "InvalidResponse": "registry_sdk.errors",
    "InvalidScope": "registry_sdk.errors",
    "ReferenceErrorKind": "registry_sdk.errors",
    "RegistryError": "registry_sdk.errors",
    "RegistryResponseError": "registry_sdk.errors",
    "SecurityError": "registry_sdk.errors",
    "TokenExchangeError": "registry_sdk.errors",
    "TransportError": "registry_sdk.errors",
    "TransportTimeout": "registry_sdk.errors",
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
