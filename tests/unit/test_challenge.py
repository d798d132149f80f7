"""Table tests for the WWW-Authenticate parser, with real registry headers and RFC edges."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_sdk.challenge import Challenge, parse_challenges, pick_challenge
from registry_sdk.errors import InvalidChallenge

C = Challenge

VALID: list[tuple[str, list[str], list[Challenge]]] = [
    (
        "distribution",
        [
            'Bearer realm="https://auth.example/token",service="registry.example",'
            'scope="repository:a/b:pull"'
        ],
        [
            C(
                "bearer",
                {
                    "realm": "https://auth.example/token",
                    "service": "registry.example",
                    "scope": "repository:a/b:pull",
                },
            )
        ],
    ),
    (
        "docker hub",
        [
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/ubuntu:pull",error="insufficient_scope"'
        ],
        [
            C(
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/ubuntu:pull",
                    "error": "insufficient_scope",
                },
            )
        ],
    ),
    (
        "ghcr",
        [
            'Bearer realm="https://ghcr.io/token",service="ghcr.io",'
            'scope="repository:user/image:pull"'
        ],
        [
            C(
                "bearer",
                {
                    "realm": "https://ghcr.io/token",
                    "service": "ghcr.io",
                    "scope": "repository:user/image:pull",
                },
            )
        ],
    ),
    (
        "ecr basic",
        ['Basic realm="https://123.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"'],
        [
            C(
                "basic",
                {
                    "realm": "https://123.dkr.ecr.us-east-1.amazonaws.com/",
                    "service": "ecr.amazonaws.com",
                },
            )
        ],
    ),
    (
        "quay",
        ['Bearer realm="https://quay.io/v2/auth",service="quay.io"'],
        [C("bearer", {"realm": "https://quay.io/v2/auth", "service": "quay.io"})],
    ),
    (
        "harbor",
        ['Bearer realm="https://harbor.local/service/token",service="harbor-registry"'],
        [
            C(
                "bearer",
                {"realm": "https://harbor.local/service/token", "service": "harbor-registry"},
            )
        ],
    ),
    (
        "two in one field",
        ['Basic realm="a", Bearer realm="b",service="c"'],
        [C("basic", {"realm": "a"}), C("bearer", {"realm": "b", "service": "c"})],
    ),
    (
        "two fields",
        ['Basic realm="a"', 'Bearer realm="b"'],
        [C("basic", {"realm": "a"}), C("bearer", {"realm": "b"})],
    ),
    (
        "param named like a scheme",
        ['Newauth realm="x", basic=foo, Basic realm="y"'],
        [C("newauth", {"realm": "x", "basic": "foo"}), C("basic", {"realm": "y"})],
    ),
    (
        "escapes and commas",
        [r'Bearer realm="a\"b\\c,d=e f"'],
        [C("bearer", {"realm": 'a"b\\c,d=e f'})],
    ),
    (
        "empty quoted value",
        ['Bearer realm="",service="s"'],
        [C("bearer", {"realm": "", "service": "s"})],
    ),
    (
        "BWS and case",
        ['BEARER Realm = "x" ,  SERVICE=y'],
        [C("bearer", {"realm": "x", "service": "y"})],
    ),
    (
        "token68",
        ["Negotiate abc+/==, Basic realm=r"],
        [C("negotiate", {}, "abc+/=="), C("basic", {"realm": "r"})],
    ),
    ("bare schemes", ["Negotiate, NTLM"], [C("negotiate"), C("ntlm")]),
    ("empty elements", [",, Basic , realm=r ,,"], [C("basic", {"realm": "r"})]),
    ("single quotes are token chars", ["Basic realm='foo'"], [C("basic", {"realm": "'foo'"})]),
    ("tab after scheme", ["Basic\trealm=r"], [C("basic", {"realm": "r"})]),
    ("nothing", [""], []),
    # token68 may end in "=" padding; with no value after "=" it cannot be an auth-param.
    ("token68 with one pad", ["Negotiate abcdef="], [C("negotiate", {}, "abcdef=")]),
    ("token68 with two pads", ["Bearer abc=="], [C("bearer", {}, "abc==")]),
    (
        "base64 token68",
        ["Token VGhpcyBoYXMgYmFzZTY0IHBhZGRpbmc="],
        [C("token", {}, "VGhpcyBoYXMgYmFzZTY0IHBhZGRpbmc=")],
    ),
    ("a token68 that looks like a name", ["Bearer realm="], [C("bearer", {}, "realm=")]),
    (
        "padded token68 then a challenge",
        ["Negotiate abc= , Basic realm=r"],
        [C("negotiate", {}, "abc="), C("basic", {"realm": "r"})],
    ),
    ("BWS after = is a param", ["Bearer realm= x"], [C("bearer", {"realm": "x"})]),
    ("padded token68 then OWS", ["Negotiate abc==\t "], [C("negotiate", {}, "abc==")]),
    # obs-fold (CRLF then SP or HTAB) is whitespace (RFC 9112 §5.2, RFC 7230 §3.2.4).
    (
        "obs-fold between params",
        ['Bearer realm="a",\r\n service="s"'],
        [C("bearer", {"realm": "a", "service": "s"})],
    ),
    ("obs-fold after the scheme", ["Basic\r\n\trealm=r"], [C("basic", {"realm": "r"})]),
    ("obs-fold around =", ["Basic realm\r\n =\r\n r"], [C("basic", {"realm": "r"})]),
    (
        "obs-fold between challenges",
        ["Basic realm=a,\r\n Bearer realm=b"],
        [C("basic", {"realm": "a"}), C("bearer", {"realm": "b"})],
    ),
    (
        "obs-fold in a quoted string is spaces",
        ['Bearer realm="a\r\n b"'],
        [C("bearer", {"realm": "a   b"})],
    ),
    (
        "obs-fold after token68",
        ["Negotiate abc=\r\n , Basic realm=r"],
        [C("negotiate", {}, "abc="), C("basic", {"realm": "r"})],
    ),
]


@pytest.mark.parametrize(
    ("values", "expected"), [(v, e) for _, v, e in VALID], ids=[n for n, _, _ in VALID]
)
def test_valid(values: list[str], expected: list[Challenge]) -> None:
    """Real headers and RFC edge cases parse to the expected challenges."""
    got = parse_challenges(values)
    assert [(c.scheme, dict(c.params), c.token68) for c in got] == [
        (c.scheme, dict(c.params), c.token68) for c in expected
    ]


INVALID = [
    ('Basic, realm="foo"', "parameter without a challenge at position 7"),
    ('Bearer realm="unterminated', "unterminated quoted string at position 26"),
    ('Bearer realm="a\\', "dangling backslash in quoted string at position 15"),
    ('Bearer realm="a", realm="b"', "duplicate parameter 'realm' at position 24"),
    ("Bearer realm=a b", "expected ',' at position 15"),
    ("Bearer realm=, service=s", "parameter without a challenge at position 15"),
    ("Negotiate abc=, x=y", "parameter without a challenge at position 16"),
    ("Bearer a==b", "expected a token at position 9"),
    ("Negotiate abc=\n", "expected a token at position 14"),
    ("Basic realm=a\r\n", "expected ',' at position 13"),
    ("Basic realm=a\r\nBearer realm=b", "expected ',' at position 13"),
    ("Basic\rrealm=a", "expected ',' at position 5"),
    ('"Bearer" realm=x', "expected a token at position 0"),
    ("Basic foo bar", "expected ',' at position 6"),
]


@pytest.mark.parametrize(("value", "message"), INVALID)
def test_invalid(value: str, message: str) -> None:
    """Malformed headers raise InvalidChallenge naming the position."""
    with pytest.raises(InvalidChallenge) as info:
        parse_challenges([value])
    assert info.value.message == message


def test_error_keeps_the_header_as_sent() -> None:
    """With obs-fold in the header, the error's source is the original text."""
    value = "Basic\r\n realm=a b"
    with pytest.raises(InvalidChallenge) as info:
        parse_challenges([value])
    assert (info.value.source, info.value.position) == (value, 16)


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


schemes = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}", fullmatch=True)
token68s = st.from_regex(r"[A-Za-z0-9\-._~+/]{1,24}={0,3}", fullmatch=True)
tokens = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}", fullmatch=True)
quoted_texts = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\t"), max_size=12
)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@given(schemes, token68s, st.sampled_from(["", " ", "\t ", "\r\n ", " \r\n\t"]))
def test_any_token68_parses_back(scheme: str, token68: str, ows: str) -> None:
    """`scheme token68`, padded or not, is one challenge carrying exactly that token68."""
    got = parse_challenges([f"{scheme} {token68}{ows}", f"{scheme} {token68}{ows}, Basic a=b"])
    assert [(c.scheme, dict(c.params), c.token68) for c in got] == [
        (scheme.lower(), {}, token68),
        (scheme.lower(), {}, token68),
        ("basic", {"a": "b"}, None),
    ]


ParamList = list[tuple[str, str, bool]]
ChallengeSpec = tuple[str, str | None, ParamList]

challenge_specs = st.tuples(
    schemes,
    st.none() | token68s,
    st.lists(
        st.one_of(
            st.tuples(tokens, tokens, st.booleans()), st.tuples(tokens, quoted_texts, st.just(True))
        ),
        max_size=3,
        unique_by=lambda p: p[0].lower(),
    ),
)
# Optional whitespace (OWS, BWS) and required whitespace (after the scheme), each with
# and without obs-fold (CRLF followed by SP or HTAB).
ows = st.sampled_from(["", " ", "\t", "\r\n ", " \r\n\t", "\r\n\t \r\n "])
rws = st.sampled_from([" ", "\t", "\r\n ", " \r\n\t", "  "])


def _render(
    specs: list[ChallengeSpec],
    space: Callable[[st.SearchStrategy[str]], str] | None,
) -> str:
    def o() -> str:
        return space(ows) if space else ""

    def r() -> str:
        return space(rws) if space else " "

    out = []
    for scheme, token68, params in specs:
        text = scheme
        if token68 is not None:
            text += r() + token68
        elif params:
            text += r() + f"{o()},{o()}".join(
                f"{name}{o()}={o()}{_quote(value) if quoted else value}"
                for name, value, quoted in params
            )
        out.append(text)
    return o() + f"{o()},{o()}".join(out) + o()


@given(st.lists(challenge_specs, max_size=4), st.data())
def test_folding_where_whitespace_is_allowed_changes_nothing(
    specs: list[ChallengeSpec], data: st.DataObject
) -> None:
    """Any OWS/BWS/RWS, obs-folds included, parses like the minimal rendering."""
    specs = [(s, t, p if t is None else []) for s, t, p in specs]
    plain = parse_challenges([_render(specs, None)])
    folded = parse_challenges([_render(specs, data.draw)])
    assert [(c.scheme, dict(c.params), c.token68) for c in folded] == [
        (c.scheme, dict(c.params), c.token68) for c in plain
    ]
    assert [(c.scheme, dict(c.params), c.token68) for c in plain] == [
        (s.lower(), {n.lower(): v for n, v, _ in p}, t) for s, t, p in specs
    ]
