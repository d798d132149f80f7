import attrs
from _typeshed import Incomplete
from collections.abc import Mapping

__all__ = ['DOCKER_MANIFEST', 'DOCKER_MANIFEST_LIST', 'Descriptor', 'INDEX_MEDIA_TYPES', 'ImageIndex', 'ImageManifest', 'MANIFEST_ACCEPT', 'MANIFEST_MEDIA_TYPES', 'Manifest', 'OCI_INDEX', 'OCI_MANIFEST', 'Platform', 'TagList']

OCI_MANIFEST: str
OCI_INDEX: str
DOCKER_MANIFEST: str
DOCKER_MANIFEST_LIST: str
MANIFEST_MEDIA_TYPES: Incomplete
INDEX_MEDIA_TYPES: Incomplete
MANIFEST_ACCEPT: Incomplete

@attrs.frozen
class Platform:
    architecture: str
    os: str
    os_version: str | None = ...
    os_features: tuple[str, ...] = ...
    variant: str | None = ...
    features: tuple[str, ...] = ...

@attrs.frozen
class Descriptor:
    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ...
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    platform: Platform | None = ...
    artifact_type: str | None = ...
    data: str | None = ...

@attrs.frozen
class ImageManifest:
    schema_version: int
    config: Descriptor
    layers: tuple[Descriptor, ...] = ...
    media_type: str | None = ...
    artifact_type: str | None = ...
    subject: Descriptor | None = ...
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)

@attrs.frozen
class ImageIndex:
    schema_version: int
    manifests: tuple[Descriptor, ...] = ...
    media_type: str | None = ...
    artifact_type: str | None = ...
    subject: Descriptor | None = ...
    annotations: Mapping[str, str] = attrs.field(factory=dict, hash=False)

@attrs.frozen
class TagList:
    name: str
    tags: tuple[str, ...] = ...

@attrs.frozen
class Manifest:
    digest: str
    media_type: str
    raw: bytes = attrs.field(repr=False)
    content: ImageManifest | ImageIndex
    @property
    def is_index(self) -> bool: ...
    @property
    def descriptor(self) -> Descriptor: ...
