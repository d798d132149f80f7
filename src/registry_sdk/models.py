"""Manifests, indexes and descriptors as frozen attrs classes (OCI and Docker v2).

Field names are snake_case; the one converter in `registry_sdk._convert` maps them to
the JSON names (`mediaType`, `artifactType`, `os.version`, ...). Unknown JSON fields are
ignored, so newer registries do not break older clients. A fetched manifest keeps its
exact bytes, media type and digest, since digests are of the exact bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "Descriptor",
    "INDEX_MEDIA_TYPES",
    "ImageIndex",
    "ImageManifest",
    "MANIFEST_ACCEPT",
    "MANIFEST_MEDIA_TYPES",
    "Manifest",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Platform",
    "TagList",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_MEDIA_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
#: The Accept list sent for manifests: never let a registry fall back to schema 1.
MANIFEST_ACCEPT = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)


@attrs.frozen
class Platform:
    """The platform an index entry is for."""

    architecture: str
    os: str
    os_version: str | None = None
    os_features: tuple[str, ...] = ()
    variant: str | None = None
    features: tuple[str, ...] = ()


@attrs.frozen
class Descriptor:
    """A content descriptor: media type, digest and size, plus optional metadata."""

    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    platform: Platform | None = None
    artifact_type: str | None = None
    data: str | None = None


@attrs.frozen
class ImageManifest:
    """An OCI image manifest or a Docker v2 schema 2 manifest."""

    schema_version: int
    config: Descriptor
    layers: tuple[Descriptor, ...] = ()
    media_type: str | None = None
    artifact_type: str | None = None
    subject: Descriptor | None = None
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class ImageIndex:
    """An OCI image index or a Docker v2 manifest list."""

    schema_version: int
    manifests: tuple[Descriptor, ...] = ()
    media_type: str | None = None
    artifact_type: str | None = None
    subject: Descriptor | None = None
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class TagList:
    """One page of `/v2/NAME/tags/list` (`null` or missing `tags` read as empty)."""

    name: str
    tags: tuple[str, ...] = ()


@attrs.frozen
class Manifest:
    """A fetched manifest: its exact bytes, media type, verified digest and content."""

    digest: str
    media_type: str
    raw: bytes = attrs.field(repr=False)
    content: ImageManifest | ImageIndex

    @property
    def is_index(self) -> bool:
        """Whether this is an index (a multi-platform image) rather than one image."""
        return isinstance(self.content, ImageIndex)

    @property
    def descriptor(self) -> Descriptor:
        """A descriptor pointing at this manifest."""
        return Descriptor(self.media_type, self.digest, len(self.raw))
