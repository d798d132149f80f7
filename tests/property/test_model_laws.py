"""The converter never lets an untyped error escape, and models round-trip."""

from __future__ import annotations

import datetime
import json

from hypothesis import given
from hypothesis import strategies as st

from registry_sdk._convert import loads, structure, unstructure
from registry_sdk._links import next_link, parse_links
from registry_sdk.errors import InvalidResponse
from registry_sdk.models import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    ContainerConfig,
    Descriptor,
    History,
    ImageConfig,
    ImageIndex,
    ImageManifest,
    Manifest,
    Platform,
    RootFS,
    TagList,
    dumps,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "tags",
                    "name",
                    "schemaVersion",
                    "config",
                    "layers",
                    "manifests",
                    "mediaType",
                    "digest",
                    "size",
                    "x",
                    "architecture",
                    "os",
                    "created",
                    "Env",
                    "ExposedPorts",
                    "rootfs",
                    "diff_ids",
                    "history",
                    "empty_layer",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(
    json_values,
    st.sampled_from(
        [TagList, ImageManifest, ImageIndex, Descriptor, ImageConfig, ContainerConfig, History]
    ),
)
def test_any_json_structures_or_raises_invalid_response(value: object, cls: type) -> None:
    """Any JSON document gives a model or InvalidResponse, nothing else."""
    try:
        structure(value, cls, "doc")
    except InvalidResponse as exc:
        assert exc.what == "doc"


@given(st.binary(max_size=64))
def test_any_bytes_load_or_raise_invalid_response(raw: bytes) -> None:
    """Arbitrary bytes as a tag list: a TagList or InvalidResponse."""
    try:
        got = loads(raw, TagList, "tag list")
    except InvalidResponse as exc:
        assert exc.what == "tag list"
        return
    assert isinstance(got, TagList)


descriptors = st.builds(
    Descriptor,
    media_type=st.text(min_size=1, max_size=10),
    digest=st.text(max_size=10),
    size=st.integers(0, 2**40),
    urls=st.lists(st.text(max_size=5), max_size=2).map(tuple),
    annotations=st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
    platform=st.none()
    | st.builds(Platform, architecture=st.text(max_size=5), os=st.text(max_size=5)),
)


@given(st.lists(descriptors, max_size=3))
def test_index_round_trips_through_json(manifests: list[Descriptor]) -> None:
    """unstructure -> JSON -> structure gives the same index."""
    index = ImageIndex(2, tuple(manifests), "application/vnd.oci.image.index.v1+json")
    assert loads(json.dumps(unstructure(index)).encode(), ImageIndex, "index") == index


@given(st.lists(st.text(max_size=30), max_size=3))
def test_link_parser_never_raises(values: list[str]) -> None:
    """Any Link header values parse (malformed ones are skipped)."""
    parse_links(values)
    next_link(values)


texts = st.text(max_size=6)
tuples = st.lists(texts, max_size=3).map(tuple)
offsets = st.integers(-23 * 60, 23 * 60).map(lambda m: datetime.timedelta(minutes=m))
times = st.datetimes(
    min_value=datetime.datetime(1, 1, 2),
    max_value=datetime.datetime(9999, 12, 30),
    timezones=st.builds(datetime.timezone, offsets),
)
container_configs = st.builds(
    ContainerConfig,
    user=st.none() | texts,
    env=tuples,
    entrypoint=st.none() | tuples,
    cmd=st.none() | tuples,
    working_dir=st.none() | texts,
    labels=st.dictionaries(texts, texts, max_size=2),
    exposed_ports=st.lists(texts, max_size=3, unique=True).map(tuple),
    volumes=st.lists(texts, max_size=3, unique=True).map(tuple),
    stop_signal=st.none() | texts,
)
image_configs = st.builds(
    ImageConfig,
    architecture=texts,
    os=texts,
    os_version=st.none() | texts,
    variant=st.none() | texts,
    created=st.none() | times,
    author=st.none() | texts,
    config=st.none() | container_configs,
    rootfs=st.builds(RootFS, type=texts, diff_ids=tuples),
    history=st.lists(
        st.builds(
            History,
            created=st.none() | times,
            created_by=st.none() | texts,
            author=st.none() | texts,
            comment=st.none() | texts,
            empty_layer=st.booleans(),
        ),
        max_size=3,
    ).map(tuple),
)


@given(image_configs)
def test_image_config_round_trips(config: ImageConfig) -> None:
    """structure(unstructure(x)) == x, directly and through the canonical JSON bytes."""
    assert structure(unstructure(config), ImageConfig, "config") == config
    assert loads(dumps(config), ImageConfig, "config") == config
    assert dumps(loads(dumps(config), ImageConfig, "config")) == dumps(config)


manifests = st.builds(
    ImageManifest,
    schema_version=st.just(2),
    config=descriptors,
    layers=st.lists(descriptors, max_size=3).map(tuple),
    media_type=st.sampled_from([OCI_MANIFEST, DOCKER_MANIFEST, None]),
    artifact_type=st.none() | texts,
    subject=st.none() | descriptors,
    annotations=st.dictionaries(texts, texts, max_size=2),
)
indexes = st.builds(
    ImageIndex,
    schema_version=st.just(2),
    manifests=st.lists(descriptors, max_size=3).map(tuple),
    media_type=st.sampled_from([OCI_INDEX, DOCKER_MANIFEST_LIST, None]),
    artifact_type=st.none() | texts,
    subject=st.none() | descriptors,
    annotations=st.dictionaries(texts, texts, max_size=2),
)


@given(manifests | indexes)
def test_built_manifests_parse_back(model: ImageManifest | ImageIndex) -> None:
    """Manifest.parse(from_model(m).raw) gives the same Manifest; dumps is deterministic."""
    built = Manifest.from_model(model)
    assert Manifest.parse(built.raw, media_type=built.media_type) == built
    assert Manifest.parse(built.raw, digest=built.digest).content == model
    assert dumps(structure(json.loads(built.raw), type(model), "m")) == built.raw
