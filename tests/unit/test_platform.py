"""Platforms: containerd's specifier syntax, normalised format, exact matcher, selection."""

from __future__ import annotations

import pickle
import platform as host

import pytest

from registry_sdk.errors import InvalidPlatform, NoMatchingPlatform, RegistryError
from registry_sdk.models import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    ImageIndex,
    Platform,
    as_platform,
)

P = Platform

# specifier -> (the parsed platform, str() of it). Facts from containerd's platforms
# package (platforms_test.go, database.go), restated.
VALID = {
    "linux/arm64": (P("arm64", "linux"), "linux/arm64"),
    "linux/arm64/v8": (P("arm64", "linux"), "linux/arm64"),
    "linux/arm64/8": (P("arm64", "linux"), "linux/arm64"),
    "linux/arm64/v8.0": (P("arm64", "linux"), "linux/arm64"),
    "linux/arm64/9": (P("arm64", "linux", variant="v9"), "linux/arm64/v9"),
    "linux/arm64/v9.0": (P("arm64", "linux", variant="v9"), "linux/arm64/v9"),
    "linux/aarch64": (P("arm64", "linux"), "linux/arm64"),
    "linux/arm": (P("arm", "linux", variant="v7"), "linux/arm/v7"),
    "linux/arm/7": (P("arm", "linux", variant="v7"), "linux/arm/v7"),
    "linux/arm/v7": (P("arm", "linux", variant="v7"), "linux/arm/v7"),
    "linux/arm/v6": (P("arm", "linux", variant="v6"), "linux/arm/v6"),
    "linux/arm/5": (P("arm", "linux", variant="v5"), "linux/arm/v5"),
    "linux/armhf": (P("arm", "linux", variant="v7"), "linux/arm/v7"),
    "linux/armel": (P("arm", "linux", variant="v6"), "linux/arm/v6"),
    "Linux/x86_64": (P("amd64", "linux"), "linux/amd64"),
    "linux/x86-64": (P("amd64", "linux"), "linux/amd64"),
    "linux/AMD64": (P("amd64", "linux"), "linux/amd64"),
    "linux/amd64/v1": (P("amd64", "linux"), "linux/amd64"),
    "linux/amd64/v3": (P("amd64", "linux", variant="v3"), "linux/amd64/v3"),
    "linux/i386": (P("386", "linux"), "linux/386"),
    "linux/s390x": (P("s390x", "linux"), "linux/s390x"),
    "linux/ppc64le": (P("ppc64le", "linux"), "linux/ppc64le"),
    "macOS/arm64": (P("arm64", "darwin"), "darwin/arm64"),
    "freebsd/riscv64": (P("riscv64", "freebsd"), "freebsd/riscv64"),
    "plan10/quantum": (P("quantum", "plan10"), "plan10/quantum"),  # two parts: anything
    # one part that is an architecture: linux
    "s390x": (P("s390x", "linux"), "linux/s390x"),
    "x86_64": (P("amd64", "linux"), "linux/amd64"),
    "Aarch64": (P("arm64", "linux"), "linux/arm64"),
    "arm": (P("arm", "linux", variant="v7"), "linux/arm/v7"),
    "armhf": (P("arm", "linux", variant="v7"), "linux/arm/v7"),
    "armel": (P("arm", "linux", variant="v6"), "linux/arm/v6"),
    "i386": (P("386", "linux"), "linux/386"),
    # the os part's version and features
    "windows(10.0.17763)/amd64": (P("amd64", "windows", "10.0.17763"), "windows(10.0.17763)/amd64"),
    "windows()/amd64": (P("amd64", "windows"), "windows/amd64"),
    "windows(10.0.17763+win32k)/amd64": (
        P("amd64", "windows", "10.0.17763", ("win32k",)),
        "windows(10.0.17763+win32k)/amd64",
    ),
    "linux(+gpu+simd)/amd64": (
        P("amd64", "linux", os_features=("gpu", "simd")),
        "linux(+gpu+simd)/amd64",
    ),
    "linux(+unsorted+erofs)/amd64": (
        P("amd64", "linux", os_features=("erofs", "unsorted")),
        "linux(+erofs+unsorted)/amd64",
    ),
    "linux(+gpu+gpu)/amd64": (P("amd64", "linux", os_features=("gpu",)), "linux(+gpu)/amd64"),
    "windows(10.0.17763%2Bbuild.42)/amd64": (
        P("amd64", "windows", "10.0.17763+build.42"),
        "windows(10.0.17763%2Bbuild.42)/amd64",
    ),
    "windows(50%25done)/amd64": (P("amd64", "windows", "50%done"), "windows(50%25done)/amd64"),
    "windows(1.0%28beta%29)/amd64": (
        P("amd64", "windows", "1.0(beta)"),
        "windows(1.0%28beta%29)/amd64",
    ),
    "windows(a%2Fb)/amd64": (P("amd64", "windows", "a/b"), "windows(a%2Fb)/amd64"),
    "linux(+feat%2Bv2)/amd64": (
        P("amd64", "linux", os_features=("feat+v2",)),
        "linux(+feat%2Bv2)/amd64",
    ),
}

# specifier -> the exact message
INVALID = {
    "": "invalid platform '': '' is not an os[(version[+feature...])] part",
    "/linux/arm": "invalid platform '/linux/arm': '' is not an os[(version[+feature...])] part",
    "linux/arm/": "invalid platform 'linux/arm/': '' is not a valid architecture or variant",
    "linux//v7": "invalid platform 'linux//v7': '' is not a valid architecture or variant",
    "linux /arm": (
        "invalid platform 'linux /arm': 'linux ' is not an os[(version[+feature...])] part"
    ),
    "linux/&arm": "invalid platform 'linux/&arm': '&arm' is not a valid architecture or variant",
    "linux/arm/foo/bar": "invalid platform 'linux/arm/foo/bar': more than three parts",
    "linux/arm/v7/": "invalid platform 'linux/arm/v7/': '' is not a valid architecture or variant",
    "*": "invalid platform '*': wildcards are not supported",
    "linux/*": "invalid platform 'linux/*': wildcards are not supported",
    "toaster": "invalid platform 'toaster': not a known operating system or architecture",
    "amd64(1.0)": "invalid platform 'amd64(1.0)': not a known operating system or architecture",
    "windows(10.0/amd64": (
        "invalid platform 'windows(10.0/amd64': 'windows(10.0' is not an "
        "os[(version[+feature...])] part"
    ),
    "linux(+)/amd64": (
        "invalid platform 'linux(+)/amd64': 'linux(+)' is not an os[(version[+feature...])] part"
    ),
    "windows(%zz)/amd64": "invalid platform 'windows(%zz)/amd64': bad percent escape in '%zz'",
    "linux/arm(v7)": (
        "invalid platform 'linux/arm(v7)': 'arm(v7)' is not a valid architecture or variant"
    ),
}


@pytest.mark.parametrize(
    ("source", "platform", "text"), [(k, *v) for k, v in VALID.items()], ids=list(VALID)
)
def test_parse_and_format(source: str, platform: Platform, text: str) -> None:
    """Each specifier parses to the normalised platform and prints containerd's format."""
    got = Platform.parse(source)
    assert got == platform
    assert str(got) == text
    assert Platform.parse(text) == got  # what str() prints parses back
    assert got.matches(source)


@pytest.mark.parametrize(("source", "message"), list(INVALID.items()), ids=list(INVALID))
def test_invalid_specifiers(source: str, message: str) -> None:
    """Bad specifiers raise InvalidPlatform (a ValueError) naming the input."""
    with pytest.raises(InvalidPlatform) as info:
        Platform.parse(source)
    assert info.exconly() == f"registry_sdk.errors.InvalidPlatform: {message}"
    assert info.value.source == source
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RegistryError)


# platform.machine() -> the host's (architecture, variant)
MACHINES = {
    "x86_64": P("amd64", "linux"),
    "AMD64": P("amd64", "linux"),  # Windows spells it so
    "aarch64": P("arm64", "linux"),
    "arm64": P("arm64", "linux"),  # macOS
    "armv7l": P("arm", "linux", variant="v7"),
    "armv6l": P("arm", "linux", variant="v6"),
    "i686": P("386", "linux"),
    "riscv64": P("riscv64", "linux"),
    "s390x": P("s390x", "linux"),
}


@pytest.mark.parametrize(("machine", "expected"), list(MACHINES.items()), ids=list(MACHINES))
def test_an_os_alone_takes_the_host_architecture(
    monkeypatch: pytest.MonkeyPatch, machine: str, expected: Platform
) -> None:
    """`linux` is linux on this machine's architecture, normalised."""
    monkeypatch.setattr(host, "machine", lambda: machine)
    assert Platform.parse("linux") == expected
    assert Platform.parse("Windows(10.0.17763)") == P(
        expected.architecture, "windows", "10.0.17763", variant=expected.variant
    )
    assert Platform.parse("macOS").os == "darwin"


def test_format_of_platforms_read_from_json() -> None:
    """str() normalises whatever spelling a JSON platform has; no os prints `unknown`."""
    assert str(P("aarch64", "linux", variant="v8")) == "linux/arm64"
    assert str(P("arm", "linux")) == "linux/arm/v7"
    assert str(P("amd64", "")) == "unknown"
    assert str(P("amd64", "windows", os_features=("z", "a", "z"))) == "windows(+a+z)/amd64"
    assert P("aarch64", "Linux", variant="8").normalized() == P("arm64", "linux")


# (candidate, wanted, whether candidate matches wanted)
MATCHES = [
    (P("arm64", "linux", variant="v8"), "linux/arm64", True),
    (P("arm64", "linux"), "linux/arm64/v8", True),
    (P("aarch64", "Linux"), "linux/arm64", True),
    (P("arm", "linux"), "linux/arm/v7", True),
    (P("arm", "linux", variant="v7"), "linux/arm", True),
    (P("arm", "linux", variant="v6"), "linux/arm/v7", False),  # no compatible fallback
    (P("arm", "linux", variant="v7"), "linux/arm/v6", False),
    (P("386", "linux"), "linux/amd64", False),
    (P("x86_64", "linux"), "linux/amd64", True),
    (P("amd64", "linux", variant="v3"), "linux/amd64", False),
    (P("amd64", "linux", variant="v1"), "linux/amd64", True),
    (P("amd64", "windows"), "linux/amd64", False),
    (P("arm64", "linux", variant="v9"), "linux/arm64", False),
    # os_version: only when wanted has one, by its major.minor.build prefix
    (P("amd64", "windows", "10.0.17763.1879"), "windows(10.0.17763)/amd64", True),
    (P("amd64", "windows", "10.0.17763.1879"), "windows(10.0.17763.5)/amd64", True),
    (P("amd64", "windows", "10.0.20348.1"), "windows(10.0.17763)/amd64", False),
    (P("amd64", "windows", "10.0.17763.1879"), "windows/amd64", True),
    (P("amd64", "windows", "10.0.17763.1879"), "windows(10.0)/amd64", True),
    (P("amd64", "windows"), "windows(10.0.17763)/amd64", True),  # nothing to compare
    (P("amd64", "windows", "10.0.177630.1"), "windows(10.0.17763)/amd64", False),
    # os features: the candidate's must all be wanted (win32k is ignored on windows)
    (P("amd64", "windows", "10.0.17763.1", ("win32k",)), "windows/amd64", True),
    (P("amd64", "linux", os_features=("gpu",)), "linux/amd64", False),
    (P("amd64", "linux", os_features=("gpu",)), "linux(+gpu)/amd64", True),
    (P("amd64", "linux", os_features=("gpu",)), "linux(+gpu+simd)/amd64", True),
    (P("amd64", "linux", os_features=("gpu", "simd")), "linux(+gpu)/amd64", False),
    (P("amd64", "linux"), "linux(+gpu)/amd64", True),
]


@pytest.mark.parametrize(
    ("candidate", "wanted", "expected"), MATCHES, ids=[f"{c!s}~{w}" for c, w, _ in MATCHES]
)
def test_matches(candidate: Platform, wanted: str, expected: bool) -> None:
    """containerd's exact matcher, given a specifier or a Platform."""
    assert candidate.matches(wanted) is expected
    assert candidate.matches(Platform.parse(wanted)) is expected


def test_as_platform() -> None:
    """A Platform passes through; a string is parsed; a bad string raises."""
    p = P("amd64", "linux")
    assert as_platform(p) is p
    assert as_platform("linux/x86_64") == p
    with pytest.raises(InvalidPlatform):
        as_platform("linux/")


def _child(
    arch: str | None,
    os: str = "linux",
    media_type: str = OCI_MANIFEST,
    variant: str | None = None,
    **annotations: str,
) -> Descriptor:
    platform = P(arch, os, variant=variant) if arch else None
    return Descriptor(
        media_type,
        f"sha256:{arch}{os}{variant}{len(annotations)}",
        1,
        annotations=annotations,
        platform=platform,
    )


AMD64 = _child("amd64")
ARM64 = _child("arm64", variant="v8")
ARM_V7 = _child("arm", variant="v7", media_type=DOCKER_MANIFEST)
AMD64_AGAIN = _child("amd64")
ATTESTATION = Descriptor(
    OCI_MANIFEST,
    "sha256:att",
    1,
    annotations={
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": AMD64.digest,
    },
    platform=P("unknown", "unknown"),
)
UNKNOWN = _child("unknown", os="unknown")
NESTED = _child("s390x", media_type=OCI_INDEX)
NO_PLATFORM = _child(None)
ANNOTATED_AMD64 = Descriptor(
    OCI_MANIFEST,
    "sha256:annotated",
    1,
    annotations={"vnd.docker.reference.type": "attestation-manifest"},
    platform=P("amd64", "linux"),
)
INDEX = ImageIndex(
    2,
    (NO_PLATFORM, ATTESTATION, ANNOTATED_AMD64, UNKNOWN, NESTED, AMD64, ARM64, AMD64_AGAIN, ARM_V7),
    OCI_INDEX,
)

SELECT = {
    "linux/amd64": AMD64,
    "linux/x86_64": AMD64,
    "linux/arm64": ARM64,
    "linux/arm64/v8": ARM64,
    "linux/arm": ARM_V7,
    "linux/arm/v6": None,
    "linux/s390x": None,  # only a nested index says s390x
    "unknown/unknown": None,
    "windows/amd64": None,
}


@pytest.mark.parametrize(("wanted", "expected"), list(SELECT.items()), ids=list(SELECT))
def test_select_first_matching_image(wanted: str, expected: Descriptor | None) -> None:
    """select() gives the first image child matching, skipping attestations and such."""
    assert INDEX.select(wanted) is expected
    assert INDEX.select(Platform.parse(wanted)) is expected


def test_platforms_lists_the_selectable_children() -> None:
    """platforms lists what select() can choose, in index order."""
    assert INDEX.platforms == (
        P("amd64", "linux"),
        P("arm64", "linux", variant="v8"),
        P("amd64", "linux"),
        P("arm", "linux", variant="v7"),
    )
    assert ImageIndex(2).platforms == ()


def test_no_matching_platform_lists_what_exists() -> None:
    """NoMatchingPlatform is a LookupError naming the wanted and available platforms."""
    wanted = Platform.parse("linux/riscv64")
    exc = NoMatchingPlatform(wanted=wanted, available=INDEX.platforms, digest="sha256:i")
    assert str(exc) == (
        "index sha256:i has no image for linux/riscv64; available: "
        "linux/amd64, linux/arm64, linux/amd64, linux/arm/v7"
    )
    assert isinstance(exc, LookupError)
    assert str(NoMatchingPlatform(wanted=None, available=(P("amd64", "linux"),))) == (
        "the index has several platforms and none was chosen (pass platform= or "
        "--platform); available: linux/amd64"
    )
    assert str(NoMatchingPlatform(wanted=None)) == "the index has no image of any platform"
    assert str(NoMatchingPlatform(wanted=wanted)) == (
        "the index has no image for linux/riscv64; available: none"
    )
    copy = pickle.loads(pickle.dumps(exc))
    assert (type(copy), str(copy), vars(copy)) == (type(exc), str(exc), vars(exc))


def test_invalid_platform_pickles() -> None:
    """InvalidPlatform survives pickling with its source."""
    with pytest.raises(InvalidPlatform) as info:
        Platform.parse("linux/&")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (type(copy), str(copy), vars(copy)) == (
        InvalidPlatform,
        str(info.value),
        vars(info.value),
    )
