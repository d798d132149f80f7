"""Manifests, indexes, descriptors, platforms and image configs as frozen attrs classes.

Field names are snake_case; the one converter in `registry_sdk._convert` maps them to
the JSON names (`mediaType`, `artifactType`, `os.version`, `Env`, `diff_ids`...).
Unknown JSON fields are ignored, so newer registries do not break older clients, and a
JSON `null` reads as an absent field. A fetched manifest keeps its exact bytes, media
type and digest, since digests are of the exact bytes.

```python
from registry_sdk.models import Manifest, Platform

manifest = Manifest.parse(raw_bytes, media_type=content_type)
child = manifest.index.select("linux/arm64")      # a Descriptor, or None
```

Models the SDK builds are written with [dumps][registry_sdk.models.dumps] (compact,
deterministic JSON in the OCI spec's key order) and wrapped with
[Manifest.from_model][registry_sdk.models.Manifest.from_model].
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Self

import attrs

from registry_sdk import _platform
from registry_sdk._errors import (
    DigestMismatch,
    InvalidResponse,
    ManifestKindMismatch,
)

__all__ = [
    "ATTESTATION_MANIFEST",
    "ContainerConfig",
    "DOCKER_CONFIG",
    "DOCKER_LAYER",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "Descriptor",
    "EMPTY_DESCRIPTOR",
    "History",
    "INDEX_MEDIA_TYPES",
    "ImageConfig",
    "ImageIndex",
    "ImageManifest",
    "MANIFEST_ACCEPT",
    "MANIFEST_MEDIA_TYPES",
    "Manifest",
    "OCI_CONFIG",
    "OCI_EMPTY",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "OCI_MANIFEST",
    "Platform",
    "RootFS",
    "TagList",
    "as_platform",
    "dumps",
]

#: OCI image manifest media type.
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
#: OCI image index media type.
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
#: Docker image manifest, schema 2.
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
#: Docker manifest list (Docker's multi-platform index).
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
#: The media types of one image (manifest, not index).
MANIFEST_MEDIA_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
#: The media types of an index (multi-platform image).
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
#: The Accept list sent for manifests: never let a registry fall back to schema 1.
MANIFEST_ACCEPT = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
#: OCI image config media type.
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
#: Docker image config media type.
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
#: OCI uncompressed layer tar (also what `push` uses for plain files).
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
#: OCI gzip-compressed layer tar.
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
#: Docker gzip-compressed layer tar.
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
#: The OCI empty descriptor's media type (the blob `{}`), the config of artifacts.
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
#: The value of the `vnd.docker.reference.type` annotation on buildx attestations.
ATTESTATION_MANIFEST = "attestation-manifest"

_REFERENCE_TYPE = "vnd.docker.reference.type"
_SCHEMA1 = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    }
)


@attrs.frozen
class Platform:
    """The platform an image is for: os, architecture and their refinements.

    Build one from containerd's specifier syntax with [parse][registry_sdk.models.Platform.parse];
    `str()` gives containerd's normalised format. Equality is field by field (a platform
    read from JSON keeps its spelling); [matches][registry_sdk.models.Platform.matches]
    compares normalised platforms.
    """

    architecture: str
    """CPU architecture, Go's spelling (`amd64`, `arm64`, `arm`, `s390x`). JSON `architecture`."""
    os: str
    """Operating system, Go's spelling (`linux`, `windows`). JSON `os`."""
    os_version: str | None = None
    """Operating system version, e.g. `10.0.17763.1879` on Windows. JSON `os.version`."""
    os_features: tuple[str, ...] = ()
    """Required operating system features, e.g. `win32k`. JSON `os.features`."""
    variant: str | None = None
    """CPU variant, e.g. `v7` for `arm`, `v8` for `arm64`. JSON `variant`."""
    features: tuple[str, ...] = ()
    """Reserved by the OCI spec for CPU features. JSON `features`."""

    @classmethod
    def parse(cls, specifier: str) -> Self:
        """Parse containerd's specifier syntax into a normalised platform.

        `os/arch[/variant]`; the os part may carry a version and features,
        `windows(10.0.17763)` or `linux(+gpu)`. One part alone is an os with this
        machine's architecture when it names a known os, else an architecture on linux.
        The result is normalised (`linux/aarch64` gives `arm64`, `linux/arm64/v8` no
        variant, `linux/arm` the variant `v7`), so equal platforms compare equal.

        >>> Platform.parse("linux/arm64/v8") == Platform("arm64", "linux")
        True
        >>> str(Platform.parse("Linux/armhf"))
        'linux/arm/v7'

        Raises:
            InvalidPlatform: wildcards, characters outside `[A-Za-z0-9_.-]`, empty or
                more than three parts, or one part naming neither an os nor an arch.
        """
        arch, os, os_version, os_features, variant = _platform.parse_specifier(specifier)
        return cls(arch, os, os_version, os_features, variant)

    def normalized(self) -> Platform:
        """This platform with containerd's normalisation applied (features kept)."""
        arch, os, os_version, os_features, variant = _platform.normalize_fields(self._fields())
        return attrs.evolve(
            self,
            architecture=arch,
            os=os,
            os_version=os_version,
            os_features=os_features,
            variant=variant,
        )

    def matches(self, wanted: Platform | str) -> bool:
        """Whether an image for this platform is what *wanted* asks for.

        containerd's exact matcher after normalisation: os, architecture and variant
        equal (`x86_64` is `amd64`, `arm64` is `arm64/v8`, `arm` is `arm/v7`); this
        platform's os features all among the wanted ones; the os version compared only
        when both have one, by the wanted version's `major.minor.build` prefix. No
        compatible fallbacks: `arm/v6` does not match `arm/v7`, nor `386` `amd64`.

        >>> Platform("arm64", "linux", variant="v8").matches("linux/arm64")
        True
        """
        return _platform.matches(self._fields(), as_platform(wanted)._fields())

    def _fields(self) -> _platform.Fields:
        return (self.architecture, self.os, self.os_version, self.os_features, self.variant)

    def __str__(self) -> str:
        """The containerd normalised format, e.g. `linux/arm/v7`, `windows(10.0.17763)/amd64`."""
        return _platform.format_fields(self._fields())


def as_platform(value: Platform | str) -> Platform:
    """A `Platform` as is, or a specifier string parsed.

    Every API that takes a platform accepts either and calls this. Strings go through
    [Platform.parse][registry_sdk.models.Platform.parse].

    Raises:
        InvalidPlatform: *value* is a string that does not parse.
    """
    return value if isinstance(value, Platform) else Platform.parse(value)


@attrs.frozen
class Descriptor:
    """A content descriptor: media type, digest and size, plus optional metadata."""

    media_type: str
    """The media type of the content pointed at. JSON `mediaType`."""
    digest: str
    """The content's digest, `algorithm:hex`. JSON `digest`."""
    size: int
    """The content's size in bytes. JSON `size`."""
    urls: tuple[str, ...] = ()
    """Other places the content may be downloaded from (foreign layers). JSON `urls`."""
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    """Arbitrary string metadata. JSON `annotations`."""
    platform: Platform | None = None
    """The platform the content is for (index entries). JSON `platform`."""
    artifact_type: str | None = None
    """The artifact's type, for descriptors of artifacts. JSON `artifactType`."""
    data: str | None = None
    """The content itself, base64-encoded, when embedded. JSON `data`."""


#: The OCI empty descriptor: the two-byte blob `{}`, config of artifacts with no config.
EMPTY_DESCRIPTOR = Descriptor(
    OCI_EMPTY,
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    2,
    data="e30=",
)


@attrs.frozen
class ImageManifest:
    """An OCI image manifest or a Docker v2 schema 2 manifest: one image or artifact."""

    schema_version: int
    """Always 2. JSON `schemaVersion`."""
    config: Descriptor
    """The image config (or an artifact's config, often the empty descriptor). JSON `config`."""
    layers: tuple[Descriptor, ...] = ()
    """The layers, base first (an artifact's files). JSON `layers`."""
    media_type: str | None = None
    """This manifest's media type, when written in it. JSON `mediaType`."""
    artifact_type: str | None = None
    """The artifact's type, for artifacts whose config is empty. JSON `artifactType`."""
    subject: Descriptor | None = None
    """The manifest this one refers to (signatures, SBOMs). JSON `subject`."""
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    """Arbitrary string metadata. JSON `annotations`."""


def _is_platform_image(child: Descriptor) -> bool:
    # An index also lists things that are not images of a platform: buildx attaches
    # provenance and SBOM manifests with platform unknown/unknown, annotated as
    # attestations; nested indexes and entries without a platform cannot be chosen.
    p = child.platform
    return (
        p is not None
        and child.media_type in MANIFEST_MEDIA_TYPES
        and child.annotations.get(_REFERENCE_TYPE) != ATTESTATION_MANIFEST
        and (p.os, p.architecture) != ("unknown", "unknown")
    )


@attrs.frozen
class ImageIndex:
    """An OCI image index or a Docker v2 manifest list: one image for several platforms."""

    schema_version: int
    """Always 2. JSON `schemaVersion`."""
    manifests: tuple[Descriptor, ...] = ()
    """The children, each usually with its `platform`. JSON `manifests`."""
    media_type: str | None = None
    """This index's media type, when written in it. JSON `mediaType`."""
    artifact_type: str | None = None
    """The artifact's type, for an index that is an artifact. JSON `artifactType`."""
    subject: Descriptor | None = None
    """The manifest this index refers to. JSON `subject`."""
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    """Arbitrary string metadata. JSON `annotations`."""

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """The platforms [select][registry_sdk.models.ImageIndex.select] can choose, in index order.

        Children that are not images of a platform (attestations, `unknown/unknown`,
        nested indexes, entries without a platform) are left out.
        """
        return tuple(
            c.platform for c in self.manifests if c.platform is not None and _is_platform_image(c)
        )

    def select(self, platform: Platform | str) -> Descriptor | None:
        """The first child, in index order, whose platform matches *platform*.

        Matching is [Platform.matches][registry_sdk.models.Platform.matches]; children
        that are not images of a platform are skipped.

        Raises:
            InvalidPlatform: *platform* is a string that does not parse.
        """
        wanted = as_platform(platform)
        for child in self.manifests:
            if (
                _is_platform_image(child)
                and child.platform is not None
                and child.platform.matches(wanted)
            ):
                return child
        return None


@attrs.frozen
class TagList:
    """One page of `/v2/NAME/tags/list` (`null` or missing `tags` read as empty)."""

    name: str
    """The repository's name. JSON `name`."""
    tags: tuple[str, ...] = ()
    """The tags on this page. JSON `tags`."""


@attrs.frozen
class ContainerConfig:
    """How to run a container from the image (the `config` object of an image config).

    Docker's JSON objects used as sets (`ExposedPorts`, `Volumes`) read as tuples of
    their keys, in document order.
    """

    user: str | None = None
    """The user (and group) to run as, `name`, `uid` or `uid:gid`. JSON `User`."""
    env: tuple[str, ...] = ()
    """Environment variables, each `NAME=value`. JSON `Env`."""
    entrypoint: tuple[str, ...] | None = None
    """The command always run; `None` when unset. JSON `Entrypoint`."""
    cmd: tuple[str, ...] | None = None
    """Default arguments (or command); `None` when unset. JSON `Cmd`."""
    working_dir: str | None = None
    """The working directory. JSON `WorkingDir`."""
    labels: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    """Arbitrary string metadata. JSON `Labels`."""
    exposed_ports: tuple[str, ...] = ()
    """Ports to expose, `port/proto` (`80/tcp`). JSON `ExposedPorts` (an object's keys)."""
    volumes: tuple[str, ...] = ()
    """Paths meant to be volumes. JSON `Volumes` (an object's keys)."""
    stop_signal: str | None = None
    """The signal that stops the container, e.g. `SIGTERM`. JSON `StopSignal`."""


@attrs.frozen
class RootFS:
    """The layers' uncompressed digests, which make the image's identity."""

    type: str = "layers"
    """Always `layers`. JSON `type`."""
    diff_ids: tuple[str, ...] = ()
    """The digests of the uncompressed layer tars, base first. JSON `diff_ids`."""


@attrs.frozen
class History:
    """One step of how the image was built (empty layers included)."""

    created: datetime.datetime | None = None
    """When the step ran (timezone aware). JSON `created` (RFC 3339)."""
    created_by: str | None = None
    """The command that made it. JSON `created_by`."""
    author: str | None = None
    """Who made it. JSON `author`."""
    comment: str | None = None
    """A free comment. JSON `comment`."""
    empty_layer: bool = False
    """Whether the step made no layer (so no `diff_ids` entry). JSON `empty_layer`."""


@attrs.frozen
class ImageConfig:
    """An OCI image config; Docker's config JSON is a superset and reads into it."""

    architecture: str
    """CPU architecture the binaries are for. JSON `architecture`."""
    os: str
    """Operating system. JSON `os`."""
    os_version: str | None = None
    """Operating system version (Windows). JSON `os.version`."""
    variant: str | None = None
    """CPU variant, e.g. `v7`. JSON `variant`."""
    created: datetime.datetime | None = None
    """When the image was made (timezone aware). JSON `created` (RFC 3339)."""
    author: str | None = None
    """Who made the image. JSON `author`."""
    config: ContainerConfig | None = None
    """How to run a container from it. JSON `config`."""
    rootfs: RootFS = attrs.field(factory=RootFS)
    """The uncompressed layer digests. JSON `rootfs`."""
    history: tuple[History, ...] = ()
    """The build steps, oldest first. JSON `history`."""

    @property
    def platform(self) -> Platform:
        """The platform this config says the image is for."""
        return Platform(self.architecture, self.os, self.os_version, variant=self.variant)


def dumps(model: ImageManifest | ImageIndex | Descriptor | ImageConfig) -> bytes:
    """Canonical JSON bytes of a model the SDK builds.

    Compact (no spaces), UTF-8, keys in the OCI spec's (and Go's) order:
    `schemaVersion`, `mediaType`, `artifactType`, `config`, `layers`/`manifests`,
    `subject`, `annotations`; descriptors `mediaType`, `digest`, `size`, `urls`,
    `annotations`, `data`, `platform`, `artifactType`; annotation keys sorted. Optional
    fields left at their default are omitted (`layers` and `manifests` are always
    written, as the spec requires). The same model always gives the same bytes, hence
    the same digest.

    >>> dumps(EMPTY_DESCRIPTOR)
    b'{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="}'
    """
    from registry_sdk import _convert  # noqa: PLC0415 (_convert imports this module)

    return json.dumps(
        _convert.unstructure(model), ensure_ascii=False, separators=(",", ":")
    ).encode()


def _kind(content: ImageManifest | ImageIndex) -> str:
    return "index" if isinstance(content, ImageIndex) else "image"


def _sha256(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@attrs.frozen
class Manifest:
    """A manifest as fetched or built: its exact bytes, media type, digest and content."""

    digest: str
    """The digest of `raw` (verified when fetched)."""
    media_type: str
    """The media type (the response's `Content-Type`, else the body's `mediaType`)."""
    raw: bytes = attrs.field(repr=False)
    """The exact bytes, which the digest is of."""
    content: ImageManifest | ImageIndex
    """The decoded manifest or index."""

    @classmethod
    def parse(cls, raw: bytes, *, media_type: str | None = None, digest: str | None = None) -> Self:
        """Decode manifest bytes, as fetched with a `Content-Type` (*media_type*).

        The kind is the media type's when it is a known one, else the body's
        `mediaType`, else the shape (`manifests` is an index, `config` an image). A known
        *media_type* that the body's `mediaType` contradicts is refused, and so are
        Docker schema 1 and documents of neither shape. *digest* defaults to the
        body's sha256; a given one is checked against the bytes.

        Raises:
            InvalidResponse: not JSON, not an object, media types disagree, schema 1,
                unsupported type, wrong shape (with the JSON paths).
            DigestMismatch: *raw* does not hash to *digest*.
        """
        from registry_sdk import _convert  # noqa: PLC0415 (_convert imports this module)
        from registry_sdk._blob import digest_of  # noqa: PLC0415 (pulls in urllib3)

        content_type = (media_type or "").partition(";")[0].strip().lower()
        try:
            doc = json.loads(raw)
        except ValueError:
            raise InvalidResponse("manifest is not valid JSON", what="manifest") from None
        if not isinstance(doc, dict):
            raise InvalidResponse("manifest is not a JSON object", what="manifest")
        body_type = doc.get("mediaType")
        body_type = body_type if isinstance(body_type, str) else None
        known = MANIFEST_MEDIA_TYPES | INDEX_MEDIA_TYPES
        if content_type in known and body_type is not None and body_type != content_type:
            raise InvalidResponse(
                f"manifest mediaType {body_type!r} disagrees with Content-Type {content_type!r}",
                what="manifest",
            )
        chosen = content_type if content_type in known else (body_type or content_type)
        if chosen in _SCHEMA1 or doc.get("schemaVersion") == 1:
            raise InvalidResponse("Docker schema 1 manifests are not supported", what="manifest")
        is_index = chosen in INDEX_MEDIA_TYPES or (
            chosen not in MANIFEST_MEDIA_TYPES and "manifests" in doc
        )
        if chosen not in known and not is_index and "config" not in doc:
            raise InvalidResponse(f"unsupported manifest media type {chosen!r}", what="manifest")
        content: ImageManifest | ImageIndex = (
            _convert.structure(doc, ImageIndex, "index")
            if is_index
            else _convert.structure(doc, ImageManifest, "manifest")
        )
        if digest is None:
            digest = _sha256(raw)
        else:
            actual = digest_of(raw, digest.partition(":")[0])
            if actual != digest:
                raise DigestMismatch(expected=digest, actual=actual, what="manifest")
        if not chosen:
            chosen = OCI_INDEX if is_index else OCI_MANIFEST
        return cls(digest, chosen, raw, content)

    @classmethod
    def from_model(cls, model: ImageManifest | ImageIndex) -> Self:
        """Serialise a model once with [dumps][registry_sdk.models.dumps] and wrap it.

        The media type is the model's, else the OCI one of its kind (which the bytes
        then do not spell out).
        """
        raw = dumps(model)
        default = OCI_INDEX if isinstance(model, ImageIndex) else OCI_MANIFEST
        return cls(_sha256(raw), model.media_type or default, raw, model)

    @property
    def is_index(self) -> bool:
        """Whether this is an index (a multi-platform image) rather than one image."""
        return isinstance(self.content, ImageIndex)

    @property
    def image(self) -> ImageManifest:
        """The content as an image manifest.

        Raises:
            ManifestKindMismatch: it is an index.
        """
        if isinstance(self.content, ImageManifest):
            return self.content
        raise ManifestKindMismatch(
            expected="image",
            found=_kind(self.content),
            digest=self.digest,
            media_type=self.media_type,
        )

    @property
    def index(self) -> ImageIndex:
        """The content as an index.

        Raises:
            ManifestKindMismatch: it is an image manifest.
        """
        if isinstance(self.content, ImageIndex):
            return self.content
        raise ManifestKindMismatch(
            expected="index",
            found=_kind(self.content),
            digest=self.digest,
            media_type=self.media_type,
        )

    @property
    def descriptor(self) -> Descriptor:
        """A descriptor pointing at this manifest."""
        return Descriptor(self.media_type, self.digest, len(self.raw))
