"""Table tests for the WWW-Authenticate parser, with real registry headers and RFC edges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_sdk.challenge import Challenge, parse_challenges, pick_challenge
from registry_sdk.errors import InvalidChallenge

C = Challenge

VALID: list[tuple[str, list[str], list[Challenge]]] = [
    ("distribution", ['Bearer realm="https://auth.example/token",service="registry.example",'
                      'scope="repository:a/b:pull"'],
     [C("bearer", {"realm": "https://auth.example/token", "service": "registry.example",
                   "scope": "repository:a/b:pull"})]),
    ("docker hub", ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                    'scope="repository:library/ubuntu:pull",error="insufficient_scope"'],
     [C("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                   "scope": "repository:library/ubuntu:pull", "error": "insufficient_scope"})]),
    ("ghcr", ['Bearer realm="https://ghcr.io/token",service="ghcr.io",'
              'scope="repository:user/image:pull"'],
     [C("bearer", {"realm": "https://ghcr.io/token", "service": "ghcr.io",
                   "scope": "repository:user/image:pull"})]),
    ("ecr basic", ['Basic realm="https://123.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"'],
     [C("basic", {"realm": "https://123.dkr.ecr.us-east-1.amazonaws.com/",
                  "service": "ecr.amazonaws.com"})]),
    ("quay", ['Bearer realm="https://quay.io/v2/auth",service="quay.io"'],
     [C("bearer", {"realm": "https://quay.io/v2/auth", "service": "quay.io"})]),
    ("harbor", ['Bearer realm="https://harbor.local/service/token",service="harbor-registry"'],
     [C("bearer", {"realm": "https://harbor.local/service/token", "service": "harbor-registry"})]),
    ("two in one field", ['Basic realm="a", Bearer realm="b",service="c"'],
     [C("basic", {"realm": "a"}), C("bearer", {"realm": "b", "service": "c"})]),
    ("two fields", ['Basic realm="a"', 'Bearer realm="b"'],
     [C("basic", {"realm": "a"}), C("bearer", {"realm": "b"})]),
    ("param named like a scheme", ['Newauth realm="x", basic=foo, Basic realm="y"'],
     [C("newauth", {"realm": "x", "basic": "foo"}), C("basic", {"realm": "y"})]),
    ("escapes and commas", [r'Bearer realm="a\"b\\c,d=e f"'],
     [C("bearer", {"realm": 'a"b\\c,d=e f'})]),
    ("empty quoted value", ['Bearer realm="",service="s"'],
     [C("bearer", {"realm": "", "service": "s"})]),
    ("BWS and case", ['BEARER Realm = "x" ,  SERVICE=y'],
     [C("bearer", {"realm": "x", "service": "y"})]),
    ("token68", ["Negotiate abc+/==, Basic realm=r"],
     [C("negotiate", {}, "abc+/=="), C("basic", {"realm": "r"})]),
    ("bare schemes", ["Negotiate, NTLM"], [C("negotiate"), C("ntlm")]),
    ("empty elements", [",, Basic , realm=r ,,"], [C("basic", {"realm": "r"})]),
    ("single quotes are token chars", ["Basic realm='foo'"], [C("basic", {"realm": "'foo'"})]),
    ("tab after scheme", ["Basic\trealm=r"], [C("basic", {"realm": "r"})]),
    ("nothing", [""], []),
]


@pytest.mark.parametrize(("values", "expected"), [(v, e) for _, v, e in VALID],
                         ids=[n for n, _, _ in VALID])
def test_valid(values: list[str], expected: list[Challenge]) -> None:
    """Real headers and RFC edge cases parse to the expected challenges."""
    got = parse_challenges(values)
    assert [(c.scheme, dict(c.params), c.token68) for c in got] == [
        (c.scheme, dict(c.params), c.token68) for c in expected]


INVALID = [
    ('Basic, realm="foo"', "parameter without a challenge at position 7"),
    ('Bearer realm="unterminated', "unterminated quoted string at position 26"),
    ('Bearer realm="a\\', "dangling backslash in quoted string at position 15"),
    ('Bearer realm="a", realm="b"', "duplicate parameter 'realm' at position 24"),
    ("Bearer realm=a b", "expected ',' at position 15"),
    ("Bearer realm=", "expected a token at position 13"),
    ('"Bearer" realm=x', "expected a token at position 0"),
    ("Basic foo bar", "expected ',' at position 6"),
]


@pytest.mark.parametrize(("value", "message"), INVALID)
def test_invalid(value: str, message: str) -> None:
    """Malformed headers raise InvalidChallenge naming the position."""
    with pytest.raises(InvalidChallenge) as info:
        parse_challenges([value])
    assert info.value.message == message


def test_oversized_header_is_refused() -> None:
    """A header over the cap is refused before parsing."""
    with pytest.raises(InvalidChallenge, match="too long"):
        parse_challenges(["Basic realm=" + "a" * 20000])


def test_pick_prefers_bearer() -> None:
    """Bearer wins over Basic; unknown schemes are not answered."""
    got = parse_challenges(['Basic realm="a", Bearer realm="b", Negotiate x'])
    picked = pick_challenge(got)
    assert picked is not None and picked.scheme == "bearer"
    assert pick_challenge(parse_challenges(["Negotiate abc"])) is None
    assert parse_challenges(['Bearer realm="r",scope="a b"'])[0].scopes == ("a", "b")


_PIECES = [*'Bb eaRr=",\\\t', "realm", "Bearer ", "token68=="]


@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join) | st.text(max_size=40))
def test_any_header_parses_or_raises_invalid_challenge(value: str) -> None:
    """Any string gives challenges or InvalidChallenge, nothing else."""
    try:
        challenges = parse_challenges([value])
    except InvalidChallenge as exc:
        assert 0 <= exc.position <= len(value)
        return
    assert all(c.scheme == c.scheme.lower() for c in challenges)
