import attrs
from registry_sdk._grammar import ReferenceParts as ReferenceParts
from registry_sdk.errors import InvalidReference as InvalidReference, ReferenceErrorKind as ReferenceErrorKind
from registry_sdk.scope import Action, Scope
from typing import TypeAlias

__all__ = ['DIGEST_PATTERN', 'DOCKER_HUB', 'DOMAIN_PATTERN', 'Digest', 'InvalidReference', 'NAME_PATTERN', 'REFERENCE_PATTERN', 'Reference', 'ReferenceErrorKind', 'ReferenceParts', 'Registry', 'Repository', 'TAG_PATTERN', 'Tag', 'parse_reference', 'split_reference']

DOMAIN_PATTERN: str
NAME_PATTERN: str
TAG_PATTERN: str
DIGEST_PATTERN: str
REFERENCE_PATTERN: str
DOCKER_HUB: str

@attrs.frozen
class Registry:
    name: str
    @classmethod
    def parse(cls, source: str, *, strict: bool = False, default_registry: str = ...) -> Registry: ...
    @property
    def familiar(self) -> str: ...
    def repository(self, path: str) -> Repository: ...
    def catalog_scope(self) -> Scope: ...

@attrs.frozen
class Repository:
    registry: Registry
    path: str
    @classmethod
    def parse(cls, source: str, *, strict: bool = False, default_registry: str = ...) -> Repository: ...
    @property
    def familiar(self) -> str: ...
    def with_tag(self, tag: str) -> Tag: ...
    def with_digest(self, digest: str) -> Digest: ...
    def scope(self, *actions: Action | str) -> Scope: ...

@attrs.frozen
class Tag:
    repository: Repository
    tag: str
    @property
    def registry(self) -> Registry: ...
    @property
    def identifier(self) -> str: ...
    @property
    def familiar(self) -> str: ...
    @classmethod
    def parse(cls, source: str, *, strict: bool = False, default_registry: str = ..., default_tag: str = 'latest') -> Tag: ...

@attrs.frozen
class Digest:
    repository: Repository
    digest: str
    tag: str | None = attrs.field(default=None, eq=False)
    @property
    def registry(self) -> Registry: ...
    @property
    def identifier(self) -> str: ...
    @property
    def familiar(self) -> str: ...
    @classmethod
    def parse(cls, source: str, *, strict: bool = False, default_registry: str = ...) -> Digest: ...
Reference: TypeAlias = Tag | Digest

def parse_reference(source: str, *, strict: bool = False, default_registry: str = ..., default_tag: str = 'latest') -> Tag | Digest: ...
def split_reference(source: str) -> ReferenceParts: ...
