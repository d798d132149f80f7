"""The fast and the exact Docker normalisation agree (STYLE.md §8: two implementations
of one rule need a test that they agree).

`_normalise.normalise` is a one-regex fast path that hands anything unusual to
`_normalise.normalise_exact`, the step-by-step port of `ParseNormalizedNamed`. Here both
run on generated references, valid and near-valid, and must give the same
(domain, path, tag, digest) or the same error kind at the same span.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from registry_sdk._normalise import normalise, normalise_exact
from registry_sdk.errors import InvalidReference

from .strategies import digests, domains, path_component, paths, references, tags

Outcome = tuple[str, object]


def outcome(
    fn: Callable[[str, bool, str], object], source: str, strict: bool, default_registry: str
) -> Outcome:
    try:
        return "ok", fn(source, strict, default_registry)
    except InvalidReference as exc:
        return "error", (exc.kind, exc.span)


HEX = "0123456789abcdef"
hex64 = st.text(HEX, min_size=64, max_size=64)
near_digests = st.one_of(
    digests,
    st.text(HEX, min_size=63, max_size=65).map(lambda h: f"sha256:{h}"),
    st.text(HEX + "ABCDEF", min_size=64, max_size=64).map(lambda h: f"sha256:{h}"),
    st.text(HEX, min_size=32, max_size=96).map(lambda h: f"sha384:{h}"),
    st.sampled_from(
        [
            "md5:abc",
            "sha256:",
            "SHA256:" + "a" * 64,
            "sha256:" + "g" * 64,
            "sha512:" + "a" * 64,
            "sha256+b64:" + "a" * 64,
        ]
    ),
)

# Whole first components that Docker treats specially, and default registries to try.
firsts = st.sampled_from(
    [
        "docker.io",
        "index.docker.io",
        "Index.docker.io",
        "localhost",
        "localhost:5000",
        "registry-1.docker.io",
        "Foo",
        "foo",
        "a_b.c",
        "a.b_c",
        "127.0.0.1:5000",
        "[::1]",
        "[::1]:5000",
        "library",
        "x:y",
        "-bad",
        "bad-",
        "ghcr.io",
    ]
)
default_registries = st.sampled_from(
    [
        "docker.io",
        "index.docker.io",
        "ghcr.io",
        "localhost:5000",
        "[::1]:5000",
        "Upper.io",
        "bad_registry",
        "",
        "a:b:c",
        "https://x.io",
    ]
)


@st.composite
def familiar(draw: st.DrawFn) -> str:
    """A name as users write it: no domain, a special first component, or a domain."""
    name = draw(paths)
    prefix = draw(st.one_of(st.none(), firsts, domains()))
    text = name if prefix is None else f"{prefix}/{name}"
    if draw(st.booleans()):
        text += ":" + draw(tags)
    if draw(st.booleans()):
        text += "@" + draw(near_digests)
    return text


def _mutate(draw: st.DrawFn, text: str) -> str:  # noqa: PLR0911 (one return per edit)
    """One near-valid edit of *text*."""
    op = draw(
        st.sampled_from(
            ["upper", "insert", "replace", "long", "hex", "tag_digest", "prefix", "drop"]
        )
    )
    pos = draw(st.integers(0, len(text)))
    if op == "upper":
        letters = [i for i, c in enumerate(text) if c.islower()]
        if letters:
            i = draw(st.sampled_from(letters))
            return text[:i] + text[i].upper() + text[i + 1 :]
        return text
    if op == "insert":
        bad = draw(
            st.sampled_from(
                ["_", "__", "___", ".", "..", "-", "-.", "/", "//", ":", "@", " ", "\n", "é", "A"]
            )
        )
        return text[:pos] + bad + text[pos:]
    if op == "replace" and text:
        i = min(pos, len(text) - 1)
        return text[:i] + draw(st.sampled_from("._-/:@A")) + text[i + 1 :]
    if op == "long":
        component = draw(path_component())
        count = draw(st.integers(1, 300 // max(1, len(component)) + 2))
        return "/".join([component] * count) + text[pos:]
    if op == "hex":
        hexed = draw(hex64)
        return draw(
            st.sampled_from(
                [
                    hexed,
                    f"{hexed}:v1",
                    f"x/{hexed}",
                    f"{hexed}/x",
                    hexed[:63],
                    f"sha256:{hexed}",
                    f"{hexed}@sha256:{hexed}",
                ]
            )
        )
    if op == "tag_digest":
        return f"{text}:{draw(tags)}@{draw(near_digests)}"
    if op == "prefix":
        return f"{draw(firsts)}/{text}"
    return text[:pos] + text[pos + 1 :]  # drop one character


@st.composite
def near_references(draw: st.DrawFn) -> str:
    """A valid reference, then zero to three near-valid edits."""
    text = draw(st.one_of(references(), familiar()))
    for _ in range(draw(st.integers(0, 3))):
        text = _mutate(draw, text)
    return text


@settings(max_examples=1000)
@given(near_references(), st.booleans(), default_registries)
@example("index.docker.io/foo", False, "docker.io")
@example("docker.io/library/foo", True, "docker.io")
@example("a" * 64, False, "docker.io")
@example("Foo/bar", False, "docker.io")
@example("foo/bar", False, "bad_registry")
@example("x/" + "a" * 254, False, "docker.io")
@example("a:b@sha256:" + "A" * 64, False, "docker.io")
@example("localhost/a:b@sha512:" + "a" * 64, True, "docker.io")
def test_fast_and_exact_normalisation_agree(
    source: str, strict: bool, default_registry: str
) -> None:
    """Same (domain, path, tag, digest), or the same error kind at the same span."""
    event("ok" if outcome(normalise, source, strict, default_registry)[0] == "ok" else "error")
    assert outcome(normalise, source, strict, default_registry) == outcome(
        normalise_exact, source, strict, default_registry
    )


@settings(max_examples=300)
@given(references())
def test_valid_references_give_a_result_on_both_paths(source: str) -> None:
    """On valid references (the strategy's shapes) both paths give the same result."""
    fast = outcome(normalise, source, False, "docker.io")
    assert fast[0] == "ok"
    assert fast == outcome(normalise_exact, source, False, "docker.io")
