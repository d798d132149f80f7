"""Platform laws: str() parses back, normalisation is idempotent, matching is exact."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from registry_sdk._platform import KNOWN_ARCHES, KNOWN_OSES
from registry_sdk.errors import InvalidPlatform
from registry_sdk.models import OCI_MANIFEST, Descriptor, ImageIndex, Platform

_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
# What an os version or feature may hold once str() escapes it.
_OPTION = _WORD + ".%+()/"

oses = st.sampled_from([*sorted(KNOWN_OSES), "macOS", "Linux"]) | st.text(
    _WORD, min_size=1, max_size=6
)
arches = st.sampled_from(
    [*sorted(KNOWN_ARCHES), "x86_64", "x86-64", "aarch64", "armhf", "armel", "i386", "AMD64"]
) | st.text(_WORD + ".", min_size=1, max_size=6)
variants = (
    st.none()
    | st.sampled_from(["v5", "v6", "v7", "v8", "8", "7", "v1", "v3", "v9.0", "9"])
    | st.text(_WORD + ".", min_size=1, max_size=4)
)
platforms = st.builds(
    Platform,
    architecture=arches,
    os=oses,
    os_version=st.none() | st.text(_OPTION, max_size=12),
    os_features=st.lists(st.text(_OPTION, min_size=1, max_size=5), max_size=3).map(tuple),
    variant=variants,
)


@given(platforms)
def test_str_parses_back_to_the_normalised_platform(p: Platform) -> None:
    """parse(str(p)) is p normalised: the format loses nothing matching needs."""
    assert Platform.parse(str(p)) == p.normalized()
    assert str(Platform.parse(str(p))) == str(p)


@given(platforms)
def test_normalisation_is_idempotent(p: Platform) -> None:
    """Normalising twice is normalising once."""
    assert p.normalized().normalized() == p.normalized()


@given(platforms, platforms)
def test_matching_is_on_normalised_platforms(p: Platform, wanted: Platform) -> None:
    """Normalising either side does not change the answer; a platform matches itself."""
    assert p.matches(p)
    answer = p.matches(wanted)
    assert p.normalized().matches(wanted) is answer
    assert p.matches(wanted.normalized()) is answer
    assert p.matches(str(wanted)) is answer


@given(st.text(max_size=30))
def test_any_string_parses_or_raises_invalid_platform(source: str) -> None:
    """Any string gives a Platform or InvalidPlatform, nothing else."""
    try:
        p = Platform.parse(source)
    except InvalidPlatform as exc:
        assert exc.source == source
        return
    assert Platform.parse(str(p)) == p


@given(st.lists(platforms, max_size=5), platforms)
def test_select_is_the_first_match_in_index_order(
    children: list[Platform], wanted: Platform
) -> None:
    """select() is the first child whose platform matches, else None."""
    index = ImageIndex(
        2,
        tuple(
            Descriptor(OCI_MANIFEST, f"sha256:{i}", 1, platform=c) for i, c in enumerate(children)
        ),
    )
    expected = next(
        (
            d
            for d in index.manifests
            if d.platform is not None
            and (d.platform.os, d.platform.architecture) != ("unknown", "unknown")
            and d.platform.matches(wanted)
        ),
        None,
    )
    assert index.select(wanted) is expected
