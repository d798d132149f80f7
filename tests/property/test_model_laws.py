"""The converter never lets an untyped error escape, and models round-trip."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from registry_sdk._convert import loads, structure, unstructure
from registry_sdk._links import next_link, parse_links
from registry_sdk.errors import InvalidResponse
from registry_sdk.models import Descriptor, ImageIndex, ImageManifest, Platform, TagList

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["tags", "name", "schemaVersion", "config", "layers", "manifests",
                         "mediaType", "digest", "size", "x"]), inner, max_size=4),
    max_leaves=12)


@given(json_values, st.sampled_from([TagList, ImageManifest, ImageIndex, Descriptor]))
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
    Descriptor, media_type=st.text(min_size=1, max_size=10), digest=st.text(max_size=10),
    size=st.integers(0, 2**40), urls=st.lists(st.text(max_size=5), max_size=2).map(tuple),
    annotations=st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
    platform=st.none() | st.builds(Platform, architecture=st.text(max_size=5),
                                   os=st.text(max_size=5)))


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
