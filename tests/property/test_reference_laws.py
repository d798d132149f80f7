"""Property laws of the reference parser and the scope parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from registry_sdk.errors import InvalidReference, InvalidScope
from registry_sdk.name import Digest, Repository, Tag, parse_reference, split_reference
from registry_sdk.scope import Scope

from .strategies import references


@given(references())
def test_round_trip(source: str) -> None:
    """parse(str(x)) == x, and the canonical form parses strictly to the same value."""
    ref = parse_reference(source)
    assert parse_reference(str(ref)) == ref
    assert parse_reference(str(ref), strict=True) == ref
    assert Repository.parse(str(ref.repository)) == ref.repository


@given(references())
def test_normalisation_is_idempotent(source: str) -> None:
    """Normalising the canonical form, or the familiar form, changes nothing."""
    ref = parse_reference(source)
    assert str(parse_reference(str(ref))) == str(ref)
    assert parse_reference(ref.familiar) == ref


@given(references())
def test_split_reassembles_the_input(source: str) -> None:
    """The pure grammar split re-assembles to exactly the input."""
    parts = split_reference(source)
    text = (f"{parts.domain}/" if parts.domain else "") + parts.path
    text += f":{parts.tag}" if parts.tag is not None else ""
    text += f"@{parts.digest}" if parts.digest is not None else ""
    assert text == source


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=80), st.text("abcAB:/@._-[]0123456789", max_size=80)))
def test_any_string_parses_or_raises_invalid_reference(source: str) -> None:
    """Arbitrary text either parses or raises InvalidReference, never anything else."""
    for parse in (parse_reference, Repository.parse, Tag.parse, Digest.parse, split_reference):
        try:
            parse(source)
        except InvalidReference as exc:
            assert 0 <= exc.span[0] <= exc.span[1] <= len(source)
            str(exc)


@given(st.text(max_size=60))
def test_any_string_parses_or_raises_invalid_scope(source: str) -> None:
    """Scope.parse accepts or raises InvalidScope; what it accepts prints back the same."""
    try:
        scope = Scope.parse(source)
    except InvalidScope:
        return
    assert Scope.parse(str(scope)) == scope
