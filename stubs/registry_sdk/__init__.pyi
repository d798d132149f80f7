from registry_sdk.authn import ANONYMOUS as ANONYMOUS, Authenticator as Authenticator, Basic as Basic, Bearer as Bearer, Credentials as Credentials, DefaultKeychain as DefaultKeychain, IdentityToken as IdentityToken, Keychain as Keychain, MultiKeychain as MultiKeychain, StaticKeychain as StaticKeychain
from registry_sdk.client import Client as Client, default_client as default_client
from registry_sdk.errors import AuthenticationError as AuthenticationError, CredentialHelperError as CredentialHelperError, CredentialsError as CredentialsError, Diagnostic as Diagnostic, DigestMismatch as DigestMismatch, ErrorCode as ErrorCode, InvalidChallenge as InvalidChallenge, InvalidReference as InvalidReference, InvalidResponse as InvalidResponse, InvalidScope as InvalidScope, ReferenceErrorKind as ReferenceErrorKind, RegistryError as RegistryError, RegistryResponseError as RegistryResponseError, SecurityError as SecurityError, TokenExchangeError as TokenExchangeError, TransportError as TransportError, TransportTimeout as TransportTimeout, check_error as check_error
from registry_sdk.models import Descriptor as Descriptor, ImageIndex as ImageIndex, ImageManifest as ImageManifest, Manifest as Manifest, Platform as Platform
from registry_sdk.name import Digest as Digest, Reference as Reference, Registry as Registry, Repository as Repository, Tag as Tag, parse_reference as parse_reference, split_reference as split_reference
from registry_sdk.scope import Action as Action, Scope as Scope
from registry_sdk.transport import Transport as Transport

__all__ = ['ANONYMOUS', 'Action', 'AuthenticationError', 'Authenticator', 'Basic', 'Bearer', 'Client', 'CredentialHelperError', 'Credentials', 'CredentialsError', 'DefaultKeychain', 'Descriptor', 'Diagnostic', 'Digest', 'DigestMismatch', 'ErrorCode', 'IdentityToken', 'ImageIndex', 'ImageManifest', 'InvalidChallenge', 'InvalidReference', 'InvalidResponse', 'InvalidScope', 'Keychain', 'Manifest', 'MultiKeychain', 'Platform', 'Reference', 'ReferenceErrorKind', 'Registry', 'RegistryError', 'RegistryResponseError', 'Repository', 'Scope', 'SecurityError', 'StaticKeychain', 'Tag', 'TokenExchangeError', 'Transport', 'TransportError', 'TransportTimeout', '__version__', 'check_error', 'default_client', 'parse_reference', 'split_reference']

# Names in __all__ with no definition:
#   __version__
