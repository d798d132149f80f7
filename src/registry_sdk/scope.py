"""Token scopes of the registry token protocol: `repository:NAME:pull,push`.

Examples:
    >>> from registry_sdk.scope import Scope, merge_scopes
    >>> str(Scope.repository("library/ubuntu", "push", "pull"))
    'repository:library/ubuntu:pull,push'
    >>> [str(s) for s in merge_scopes([Scope.parse("repository:a:pull"),
    ...                                Scope.parse("repository:a:push")])]
    ['repository:a:pull,push']
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

import attrs

from registry_sdk import _grammar as G
from registry_sdk._errors import InvalidScope

__all__ = [
    "Action",
    "InvalidScope",
    "Scope",
    "merge_scopes",
    "parse_scopes",
    "scope_for_request",
]

_TYPE_RE = re.compile(r"[a-z0-9]+(?:\([a-z0-9]+\))?", re.ASCII)
_NAME_RE = re.compile(G.NAME, re.ASCII)
_ACTION_RE = re.compile(r"[a-z]+|\*", re.ASCII)


class Action(enum.StrEnum):
    """The actions a registry grants on a resource."""

    PULL = "pull"
    PUSH = "push"
    DELETE = "delete"
    ALL = "*"


_ORDER = {a.value: i for i, a in enumerate(Action)}


def _canonical(actions: Iterable[str]) -> tuple[str, ...]:
    unique = {str(a) for a in actions}
    return tuple(sorted(unique, key=lambda a: (_ORDER.get(a, len(_ORDER)), a)))


@attrs.frozen
class Scope:
    """One resource scope: a type, a name and a set of actions.

    Actions are kept de-duplicated in a canonical order (pull, push, delete, `*`, then
    any others alphabetically), so equal scopes print the same wire form.
    """

    resource_type: str
    name: str
    actions: tuple[str, ...] = attrs.field(converter=_canonical)

    def __str__(self) -> str:
        return f"{self.resource_type}:{self.name}:{','.join(self.actions)}"

    @classmethod
    def repository(cls, name: str, *actions: Action | str) -> Scope:
        """`repository:<name>:<actions>`; *name* is the path the registry sees."""
        return cls("repository", name, actions or (Action.PULL,))

    @classmethod
    def catalog(cls) -> Scope:
        """`registry:catalog:*`, needed for `/v2/_catalog`."""
        return cls("registry", "catalog", (Action.ALL,))

    @property
    def resource(self) -> tuple[str, str]:
        """The `(type, name)` pair scopes are merged on."""
        return (self.resource_type, self.name)

    def union(self, other: Scope) -> Scope:
        """This scope with the actions of *other* (which must name the same resource)."""
        if other.resource != self.resource:
            raise ValueError(f"cannot merge {other} into {self}: different resources")
        return Scope(self.resource_type, self.name, self.actions + other.actions)

    def covers(self, other: Scope) -> bool:
        """Whether this scope grants at least what *other* asks for."""
        return other.resource == self.resource and (
            Action.ALL in self.actions or set(other.actions) <= set(self.actions)
        )

    @classmethod
    def parse(cls, source: str) -> Scope:
        """Parse one scope, splitting on the first and last colon.

        The name may contain a `host:port`, hence not on every colon.

        Raises:
            InvalidScope: when a part does not follow the scope grammar.
        """
        first, last = source.find(":"), source.rfind(":")
        if first < 0 or first == last:
            raise InvalidScope("a scope is type:name:actions", source=source)
        rtype, name, actions = source[:first], source[first + 1 : last], source[last + 1 :]
        if not _TYPE_RE.fullmatch(rtype):
            raise InvalidScope(f"invalid resource type {rtype!r}", source=source)
        if len(name) > G.MAX_INPUT_LENGTH or not _NAME_RE.fullmatch(name):
            raise InvalidScope(f"invalid resource name {name!r}", source=source)
        parts = actions.split(",")
        if not all(_ACTION_RE.fullmatch(a) for a in parts):
            raise InvalidScope(f"invalid actions {actions!r}", source=source)
        return cls(rtype, name, parts)


def merge_scopes(scopes: Iterable[Scope]) -> tuple[Scope, ...]:
    """Merge scopes naming the same resource by union of actions, keeping first-seen order."""
    merged: dict[tuple[str, str], Scope] = {}
    for scope in scopes:
        seen = merged.get(scope.resource)
        merged[scope.resource] = scope if seen is None else seen.union(scope)
    return tuple(merged.values())


_REPO_PATH = re.compile(r"/v2/(.+)/(?:manifests|blobs|tags|referrers)/")
_PUSH_METHODS = frozenset({"POST", "PUT", "PATCH"})


def scope_for_request(method: str, path: str) -> Scope | None:
    """The scope distribution demands for *method* on a URL *path*, if it names one.

    GET/HEAD need pull; POST/PUT/PATCH pull and push; DELETE delete; `/v2/_catalog`
    needs `registry:catalog:*`. A URL with a scheme and host is accepted too.
    """
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    if path.startswith("/v2/_catalog"):
        return Scope.catalog()
    match = _REPO_PATH.match(path)
    if match is None:
        return None
    method = method.upper()
    actions = (
        (Action.PULL, Action.PUSH)
        if method in _PUSH_METHODS
        else (Action.DELETE,)
        if method == "DELETE"
        else (Action.PULL,)
    )
    return Scope.repository(match.group(1), *actions)


def parse_scopes(source: str) -> tuple[Scope, ...]:
    """Parse a space-separated scope list (as in a challenge's `scope` parameter)."""
    return merge_scopes(Scope.parse(part) for part in source.split())
