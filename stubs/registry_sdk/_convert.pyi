from _typeshed import Incomplete
from collections.abc import Callable as Callable
from registry_sdk.errors import InvalidResponse as InvalidResponse
from registry_sdk.models import TagList as TagList
from typing import Any, TypeVar

T = TypeVar('T')
converter: Incomplete

def structure(data: Any, cls: type[T], what: str) -> T: ...
def loads(raw: bytes, cls: type[T], what: str) -> T: ...
def unstructure(obj: object) -> Any: ...
