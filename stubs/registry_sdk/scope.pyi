import attrs
import enum
from collections.abc import Iterable
from registry_sdk.errors import InvalidScope as InvalidScope

__all__ = ['Action', 'InvalidScope', 'Scope', 'merge_scopes', 'parse_scopes', 'scope_for_request']

def _canonical(actions: Iterable[str]) -> tuple[str, ...]: ...

class Action(enum.StrEnum):
    PULL = 'pull'
    PUSH = 'push'
    DELETE = 'delete'
    ALL = '*'

@attrs.frozen
class Scope:
    resource_type: str
    name: str
    actions: tuple[str, ...] = attrs.field(converter=_canonical)
    @classmethod
    def repository(cls, name: str, *actions: Action | str) -> Scope: ...
    @classmethod
    def catalog(cls) -> Scope: ...
    @property
    def resource(self) -> tuple[str, str]: ...
    def union(self, other: Scope) -> Scope: ...
    def covers(self, other: Scope) -> bool: ...
    @classmethod
    def parse(cls, source: str) -> Scope: ...

def merge_scopes(scopes: Iterable[Scope]) -> tuple[Scope, ...]: ...
def parse_scopes(source: str) -> tuple[Scope, ...]: ...
def scope_for_request(method: str, path: str) -> Scope | None: ...
