"""Table tests for registry_sdk.scope."""

from __future__ import annotations

import pytest

from registry_sdk.errors import InvalidScope
from registry_sdk.scope import Action, Scope, merge_scopes, parse_scopes

VALID = [
    ("repository:library/ubuntu:pull", ("repository", "library/ubuntu", ("pull",))),
    ("repository:a/b:push,pull", ("repository", "a/b", ("pull", "push"))),
    ("repository:a:pull,pull", ("repository", "a", ("pull",))),
    ("repository:localhost:5000/a:pull", ("repository", "localhost:5000/a", ("pull",))),
    ("registry:catalog:*", ("registry", "catalog", ("*",))),
    ("repository(plugin):a:pull", ("repository(plugin)", "a", ("pull",))),
    (
        "repository:a:delete,push,pull,custom",
        ("repository", "a", ("pull", "push", "delete", "custom")),
    ),
]


@pytest.mark.parametrize(("source", "parts"), VALID)
def test_parse(source: str, parts: tuple[str, str, tuple[str, ...]]) -> None:
    """Scopes parse into type, name and canonical actions."""
    scope = Scope.parse(source)
    assert (scope.resource_type, scope.name, scope.actions) == parts
    assert Scope.parse(str(scope)) == scope


INVALID = [
    ("", "a scope is type:name:actions"),
    ("repository:a", "a scope is type:name:actions"),
    ("Repository:a:pull", "invalid resource type 'Repository'"),
    ("repository:A:pull", "invalid resource name 'A'"),
    ("repository::pull", "invalid resource name ''"),
    ("repository:a:", "invalid actions ''"),
    ("repository:a:pull,,push", "invalid actions 'pull,,push'"),
    ("repository:a:PULL", "invalid actions 'PULL'"),
]


@pytest.mark.parametrize(("source", "message"), INVALID)
def test_invalid(source: str, message: str) -> None:
    """Bad scopes raise InvalidScope (also a ValueError) with a precise message."""
    with pytest.raises(InvalidScope) as info:
        Scope.parse(source)
    assert info.value.message == message
    assert isinstance(info.value, ValueError)


def test_builders_and_merge() -> None:
    """Builders give the wire form; scopes for one resource merge by union."""
    assert str(Scope.repository("a", Action.PUSH)) == "repository:a:push"
    assert str(Scope.catalog()) == "registry:catalog:*"
    merged = merge_scopes(
        [Scope.repository("a"), Scope.repository("b"), Scope.repository("a", "push")]
    )
    assert [str(s) for s in merged] == ["repository:a:pull,push", "repository:b:pull"]
    assert parse_scopes("repository:a:pull repository:a:push") == (
        Scope.repository("a", "pull", "push"),
    )
    with pytest.raises(ValueError, match="different resources"):
        Scope.repository("a").union(Scope.repository("b"))


def test_covers() -> None:
    """A scope covers another when it grants all its actions (or `*`)."""
    assert Scope.repository("a", "pull", "push").covers(Scope.repository("a"))
    assert not Scope.repository("a").covers(Scope.repository("a", "push"))
    assert not Scope.repository("a").covers(Scope.repository("b"))
    assert Scope("repository", "a", ("*",)).covers(Scope.repository("a", "delete"))
