import attrs
from _typeshed import Incomplete
from collections.abc import Mapping
from registry_sdk.name import Registry, Repository
from typing import Protocol

__all__ = ['ANONYMOUS', 'Anonymous', 'Authenticator', 'Basic', 'Bearer', 'Credentials', 'DefaultKeychain', 'Explanation', 'IdentityToken', 'Keychain', 'MultiKeychain', 'StaticKeychain']

@attrs.frozen(repr=False)
class Credentials:
    username: str = ...
    password: str = ...
    identity_token: str = ...
    registry_token: str = ...
    @property
    def is_anonymous(self) -> bool: ...
    @property
    def identity(self) -> str: ...

class Authenticator(Protocol):
    def authorization(self) -> Credentials: ...

@attrs.frozen
class Anonymous:
    def authorization(self) -> Credentials: ...

ANONYMOUS: Incomplete

@attrs.frozen(repr=False)
class Basic:
    username: str
    password: str
    def authorization(self) -> Credentials: ...

@attrs.frozen(repr=False)
class Bearer:
    token: str
    def authorization(self) -> Credentials: ...

@attrs.frozen(repr=False)
class IdentityToken:
    token: str
    username: str = ...
    def authorization(self) -> Credentials: ...

@attrs.frozen(repr=False)
class _Stored:
    credentials: Credentials
    origin: str
    def authorization(self) -> Credentials: ...
Target = Registry | Repository

class Keychain(Protocol):
    def resolve(self, target: Registry | Repository) -> Authenticator: ...

@attrs.frozen
class Explanation:
    target: str
    origin: str | None
    steps: tuple[str, ...]

class DefaultKeychain:
    def __init__(self, env: Mapping[str, str] | None = None, *, helper_timeout: float = 30.0) -> None: ...
    def resolve(self, target: Registry | Repository) -> Authenticator: ...
    def explain(self, target: Registry | Repository) -> Explanation: ...

class StaticKeychain:
    def __init__(self, entries: Mapping[str, Authenticator]) -> None: ...
    def resolve(self, target: Registry | Repository) -> Authenticator: ...

class MultiKeychain:
    def __init__(self, *keychains: Keychain) -> None: ...
    def resolve(self, target: Registry | Repository) -> Authenticator: ...
