"""The decisions of a copy, without sockets: destinations, platform filters, targets."""

from __future__ import annotations

import pytest

from registry_sdk import _copy, _push
from registry_sdk.errors import (
    DigestMismatch,
    InvalidPlatform,
    NoMatchingPlatform,
    UnsupportedOperation,
)
from registry_sdk.models import (
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    ImageIndex,
    ImageManifest,
    Manifest,
    Platform,
)
from registry_sdk.name import Digest, Repository, Tag
from registry_sdk.progress import ProgressAction, ProgressEvent

D1, D2, D3 = ("sha256:" + c * 64 for c in "123")


def index() -> Manifest:
    attestation = Descriptor(
        OCI_MANIFEST,
        D3,
        3,
        platform=Platform.parse("unknown/unknown"),
        annotations={
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": D2,
        },
    )
    return Manifest.from_model(
        ImageIndex(
            2,
            (
                Descriptor(OCI_MANIFEST, D1, 1, platform=Platform.parse("linux/amd64")),
                Descriptor(OCI_MANIFEST, D2, 2, platform=Platform.parse("linux/arm64")),
                attestation,
            ),
            OCI_INDEX,
        )
    )


def test_a_destination_string_is_a_reference_only_with_a_tag_or_digest() -> None:
    assert _copy.as_destination("r.example/a/b") == Repository.parse("r.example/a/b")
    assert _copy.as_destination("r.example/a/b:v2") == Tag.parse("r.example/a/b:v2")
    assert isinstance(_copy.as_destination(f"r.example/a/b@{D1}"), Digest)
    tag = Tag.parse("r.example/a/b:v2")
    assert _copy.as_destination(tag) is tag


def test_platforms_are_parsed_one_or_many() -> None:
    assert _copy.wanted_platforms(None) == ()
    assert _copy.wanted_platforms("linux/aarch64") == (Platform.parse("linux/aarch64"),)
    assert _copy.wanted_platforms(["linux/amd64", Platform.parse("linux/arm64")]) == (
        Platform.parse("linux/amd64"),
        Platform.parse("linux/arm64"),
    )
    with pytest.raises(InvalidPlatform):
        _copy.wanted_platforms(["linux/amd64", "linux/"])


def test_a_filter_keeps_the_matching_children_and_their_attestations() -> None:
    root = index()
    kept = _copy._filtered(root, (Platform.parse("linux/arm64/v8"),))
    assert [c.digest for c in kept.index.manifests] == [D2, D3]
    assert kept.digest != root.digest
    assert Manifest.parse(kept.raw).digest == kept.digest  # serialised once, hashed
    every = (Platform.parse("linux/amd64"), Platform.parse("linux/arm64"))
    assert _copy._filtered(root, every) is root  # nothing removed: the same bytes
    assert _copy._filtered(root, ()) is root
    with pytest.raises(NoMatchingPlatform) as info:
        _copy._filtered(root, (Platform.parse("linux/s390x"),))
    assert info.value.available == (Platform.parse("linux/amd64"), Platform.parse("linux/arm64"))
    image = Manifest.from_model(ImageManifest(2, Descriptor("x/c", D1, 1), (), OCI_MANIFEST))
    assert _copy._filtered(image, every) is image


def test_the_target_keeps_the_tag_or_the_digest() -> None:
    repo = Repository.parse("r.example/dst")
    tag, digest = Tag.parse("r.example/src:v1"), Digest.parse(f"r.example/src@{D1}")
    assert _copy._target(tag, repo, filtering=False) == repo.with_tag("v1")
    assert _copy._target(tag, repo, filtering=True) == repo.with_tag("v1")
    assert _copy._target(digest, repo, filtering=False) == repo.with_digest(D1)
    assert _copy._target(digest, repo, filtering=True) == repo  # pushed by its new digest
    with pytest.raises(UnsupportedOperation) as info:
        _copy._target(tag, repo.with_digest(D1), filtering=True)
    assert info.value.use_instead == str(repo)


def test_a_streamed_body_of_the_wrong_length_is_stopped() -> None:
    events: list[ProgressEvent] = []
    assert list(_push._counted(iter([b"ab", b"c"]), D1, 3, events.append)) == [b"ab", b"c"]
    assert [(e.done, e.total, e.action) for e in events] == [
        (2, 3, ProgressAction.UPLOAD),
        (3, 3, ProgressAction.UPLOAD),
    ]
    with pytest.raises(DigestMismatch, match="longer"):
        list(_push._counted(iter([b"ab", b"cd"]), D1, 3, None))
    with pytest.raises(DigestMismatch, match="ended after 2 of 3"):
        list(_push._counted(iter([b"ab"]), D1, 3, None))
