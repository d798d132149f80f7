"""Models: manifest decoding, narrowing, canonical JSON, image configs, Go's times."""

from __future__ import annotations

import datetime
import hashlib
import json
import pickle
from typing import Any

import pytest

from registry_sdk._convert import format_time, loads, parse_time, structure, unstructure
from registry_sdk.errors import DigestMismatch, InvalidResponse, ManifestKindMismatch
from registry_sdk.models import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    EMPTY_DESCRIPTOR,
    OCI_CONFIG,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_LAYER,
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
    dumps,
)

UTC = datetime.UTC
D = "sha256:" + "a" * 64
CONFIG = Descriptor(OCI_CONFIG, D, 7)


def _sha256(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _doc(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


IMAGE = {
    "schemaVersion": 2,
    "config": {"mediaType": OCI_CONFIG, "digest": D, "size": 7},
    "layers": [],
}
INDEX = {"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": D, "size": 7}]}

# (body, Content-Type) -> (media type, kind)
DECODED = {
    "oci image": (_doc(**IMAGE, mediaType=OCI_MANIFEST), OCI_MANIFEST, OCI_MANIFEST, "image"),
    "content type with parameters": (
        _doc(**IMAGE),
        "Application/vnd.oci.image.manifest.v1+json; charset=utf-8",
        OCI_MANIFEST,
        "image",
    ),
    "docker image, body type only": (
        _doc(**IMAGE, mediaType=DOCKER_MANIFEST),
        None,
        DOCKER_MANIFEST,
        "image",
    ),
    "docker list, body type only": (
        _doc(**INDEX, mediaType=DOCKER_MANIFEST_LIST),
        None,
        DOCKER_MANIFEST_LIST,
        "index",
    ),
    "oci index by shape": (_doc(**INDEX), None, OCI_INDEX, "index"),
    "oci image by shape": (_doc(**IMAGE), None, OCI_MANIFEST, "image"),
    "generic content type, body type wins": (
        _doc(**INDEX, mediaType=OCI_INDEX),
        "application/json",
        OCI_INDEX,
        "index",
    ),
    "unknown content type, shape decides": (
        _doc(**INDEX),
        "application/json",
        "application/json",
        "index",
    ),
}


@pytest.mark.parametrize(
    ("raw", "content_type", "media_type", "kind"), DECODED.values(), ids=list(DECODED)
)
def test_parse_negotiates_the_media_type(
    raw: bytes, content_type: str | None, media_type: str, kind: str
) -> None:
    """Content-Type when known, else the body's mediaType, else the shape."""
    manifest = Manifest.parse(raw, media_type=content_type)
    assert manifest.media_type == media_type
    assert manifest.is_index is (kind == "index")
    assert manifest.digest == _sha256(raw)
    assert manifest.raw is raw
    assert manifest.descriptor == Descriptor(media_type, _sha256(raw), len(raw))


REFUSED = {
    "not json": (b"{", OCI_MANIFEST, "manifest is not valid JSON"),
    "not an object": (b"[]", OCI_MANIFEST, "manifest is not a JSON object"),
    "types disagree": (
        _doc(**INDEX, mediaType=OCI_INDEX),
        OCI_MANIFEST,
        f"manifest mediaType {OCI_INDEX!r} disagrees with Content-Type {OCI_MANIFEST!r}",
    ),
    "schema 1 by type": (
        _doc(schemaVersion=1, fsLayers=[]),
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "Docker schema 1 manifests are not supported",
    ),
    "schema 1 by version": (
        _doc(schemaVersion=1, name="x", fsLayers=[]),
        None,
        "Docker schema 1 manifests are not supported",
    ),
    "neither shape": (
        _doc(schemaVersion=2, blobs=[]),
        "application/vnd.foo",
        "unsupported manifest media type 'application/vnd.foo'",
    ),
    "nothing at all": (_doc(), None, "unsupported manifest media type ''"),
    "wrong shape": (
        _doc(schemaVersion=2, layers=[]),
        OCI_MANIFEST,
        "manifest does not have the expected shape: required field missing @ $.config",
    ),
}


@pytest.mark.parametrize(("raw", "content_type", "message"), REFUSED.values(), ids=list(REFUSED))
def test_parse_refuses(raw: bytes, content_type: str | None, message: str) -> None:
    """Bad bodies, disagreeing types, schema 1 and unknown shapes are InvalidResponse."""
    with pytest.raises(InvalidResponse) as info:
        Manifest.parse(raw, media_type=content_type)
    assert str(info.value) == message
    assert info.value.what == "manifest"


def test_parse_checks_a_given_digest() -> None:
    """A given digest is kept when the bytes hash to it (sha512 too), else DigestMismatch."""
    raw = _doc(**IMAGE)
    assert Manifest.parse(raw, digest=_sha256(raw)).digest == _sha256(raw)
    sha512 = "sha512:" + hashlib.sha512(raw).hexdigest()
    assert Manifest.parse(raw, digest=sha512).digest == sha512
    with pytest.raises(DigestMismatch) as info:
        Manifest.parse(raw, digest=D)
    assert (info.value.expected, info.value.actual) == (D, _sha256(raw))
    with pytest.raises(InvalidResponse, match="unsupported digest algorithm 'md5'"):
        Manifest.parse(raw, digest="md5:00")


def test_narrowing_accessors() -> None:
    """.image and .index give the content typed, or ManifestKindMismatch naming both."""
    image = Manifest.parse(_doc(**IMAGE), media_type=OCI_MANIFEST)
    index = Manifest.parse(_doc(**INDEX), media_type=OCI_INDEX)
    assert image.image is image.content
    assert index.index is index.content
    with pytest.raises(ManifestKindMismatch) as info:
        _ = image.index
    assert str(info.value) == (
        f"manifest {image.digest} is an image ({OCI_MANIFEST}), not an index"
    )
    assert (info.value.expected, info.value.found, info.value.digest) == (
        "index",
        "image",
        image.digest,
    )
    assert isinstance(info.value, InvalidResponse)
    with pytest.raises(ManifestKindMismatch, match="is an index .* not an image"):
        _ = index.image
    copy = pickle.loads(pickle.dumps(info.value))
    assert (type(copy), str(copy), vars(copy)) == (
        type(info.value),
        str(info.value),
        vars(info.value),
    )


SUBJECT = Descriptor(OCI_MANIFEST, "sha256:" + "b" * 64, 9)
ARTIFACT = ImageManifest(
    2,
    EMPTY_DESCRIPTOR,
    (Descriptor(OCI_LAYER, D, 3, annotations={"org.opencontainers.image.title": "a.txt"}),),
    OCI_MANIFEST,
    "application/vnd.example+type",
    SUBJECT,
    {"z": "1", "a": "2"},
)


def test_dumps_is_compact_and_in_spec_order() -> None:
    """dumps() writes the OCI spec's key order, sorted annotations, no empty fields."""
    assert dumps(ARTIFACT) == (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
        b'"artifactType":"application/vnd.example+type","config":{"mediaType":'
        b'"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8'
        b'649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},"layers":[{'
        b'"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'
        + b"a"
        * 64
        + b'","size":3,"annotations":{"org.opencontainers.image.title":"a.txt"}}],'
        b'"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":'
        b'"sha256:' + b"b" * 64 + b'","size":9},"annotations":{"a":"2","z":"1"}}'
    )
    assert dumps(ImageManifest(2, CONFIG)) == (
        b'{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",'
        b'"digest":"' + D.encode() + b'","size":7},"layers":[]}'
    )
    assert dumps(ImageIndex(2, media_type=OCI_INDEX)) == (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
    )
    child = Descriptor(
        OCI_MANIFEST,
        D,
        7,
        platform=Platform("arm64", "linux", variant="v8"),
        artifact_type="x",
        data="e30=",
        urls=("https://u",),
    )
    assert dumps(child) == (
        b'{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'
        + D.encode()
        + b'","size":7,"urls":["https://u"],"data":"e30=","platform":{"architecture":"arm64",'
        b'"os":"linux","variant":"v8"},"artifactType":"x"}'
    )


def test_empty_descriptor_is_the_empty_blob() -> None:
    """EMPTY_DESCRIPTOR describes the two bytes `{}`."""
    assert EMPTY_DESCRIPTOR.media_type == OCI_EMPTY
    assert EMPTY_DESCRIPTOR.digest == _sha256(b"{}")
    assert EMPTY_DESCRIPTOR.size == 2
    assert EMPTY_DESCRIPTOR.data == "e30="


def test_from_model_wraps_the_canonical_bytes() -> None:
    """from_model() serialises once; parsing its bytes gives the same Manifest back."""
    manifest = Manifest.from_model(ARTIFACT)
    assert manifest.raw == dumps(ARTIFACT)
    assert manifest.digest == _sha256(manifest.raw)
    assert manifest.media_type == OCI_MANIFEST
    assert Manifest.parse(manifest.raw, media_type=manifest.media_type) == manifest
    bare = Manifest.from_model(ImageIndex(2))
    assert bare.media_type == OCI_INDEX
    assert Manifest.parse(bare.raw, media_type=OCI_INDEX) == bare


DOCKER_BUILT = b"""{
  "architecture": "amd64",
  "config": {
    "Hostname": "", "Domainname": "", "User": "app:app", "AttachStdin": false,
    "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
    "Tty": false, "OpenStdin": false, "StdinOnce": false,
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "LANG=C.UTF-8"],
    "Cmd": ["python3", "-m", "app"], "ArgsEscaped": true, "Image": "sha256:0123",
    "Volumes": {"/data": {}}, "WorkingDir": "/srv", "Entrypoint": null, "OnBuild": null,
    "Labels": {"org.opencontainers.image.source": "https://example.com/app"},
    "StopSignal": "SIGINT"
  },
  "container": "3b1bcd1f0a1a",
  "container_config": {"Hostname": "3b1bcd1f0a1a", "Cmd": ["/bin/sh", "-c", "#(nop) CMD"],
                       "Env": null, "Labels": null},
  "created": "2023-06-14T21:24:05.519893187Z",
  "docker_version": "20.10.23",
  "history": [
    {"created": "2023-06-13T00:20:31.224446364Z",
     "created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created": "2023-06-13T00:20:31.511543911Z",
     "created_by": "/bin/sh -c #(nop)  CMD [\\"bash\\"]", "empty_layer": true},
    {"created": "2023-06-14T21:24:05.519893187+02:00", "created_by": "RUN pip install",
     "author": "me", "comment": "buildkit.dockerfile.v0"}
  ],
  "os": "linux",
  "rootfs": {"type": "layers", "diff_ids": ["sha256:1111", "sha256:2222"]}
}"""
OCI_MINIMAL = b'{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
WINDOWS = b"""{"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.4499",
  "created": "2023-06-06T10:55:09.0423451-07:00",
  "config": {"Env": null, "Cmd": ["c:\\\\windows\\\\system32\\\\cmd.exe"], "Labels": null,
             "Volumes": null, "ExposedPorts": null},
  "rootfs": {"type": "layers", "diff_ids": ["sha256:3333"]},
  "history": [{"created": "2023-06-06T10:55:09.0423451-07:00",
               "created_by": "Apply image 10.0.17763.4499"}]}"""

CONFIGS = {
    "docker-built": (
        DOCKER_BUILT,
        ImageConfig(
            "amd64",
            "linux",
            created=datetime.datetime(2023, 6, 14, 21, 24, 5, 519893, tzinfo=UTC),
            config=ContainerConfig(
                user="app:app",
                env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "LANG=C.UTF-8"),
                cmd=("python3", "-m", "app"),
                working_dir="/srv",
                labels={"org.opencontainers.image.source": "https://example.com/app"},
                exposed_ports=("8080/tcp", "53/udp"),
                volumes=("/data",),
                stop_signal="SIGINT",
            ),
            rootfs=RootFS("layers", ("sha256:1111", "sha256:2222")),
            history=(
                History(
                    datetime.datetime(2023, 6, 13, 0, 20, 31, 224446, tzinfo=UTC),
                    "/bin/sh -c #(nop) ADD file:abc in / ",
                ),
                History(
                    datetime.datetime(2023, 6, 13, 0, 20, 31, 511543, tzinfo=UTC),
                    '/bin/sh -c #(nop)  CMD ["bash"]',
                    empty_layer=True,
                ),
                History(
                    datetime.datetime(2023, 6, 14, 19, 24, 5, 519893, tzinfo=UTC),
                    "RUN pip install",
                    "me",
                    "buildkit.dockerfile.v0",
                ),
            ),
        ),
    ),
    "oci minimal": (OCI_MINIMAL, ImageConfig("arm64", "linux")),
    "windows": (
        WINDOWS,
        ImageConfig(
            "amd64",
            "windows",
            "10.0.17763.4499",
            created=datetime.datetime(2023, 6, 6, 17, 55, 9, 42345, tzinfo=UTC),
            config=ContainerConfig(cmd=("c:\\windows\\system32\\cmd.exe",)),
            rootfs=RootFS(diff_ids=("sha256:3333",)),
            history=(
                History(
                    datetime.datetime(2023, 6, 6, 17, 55, 9, 42345, tzinfo=UTC),
                    "Apply image 10.0.17763.4499",
                ),
            ),
        ),
    ),
}


@pytest.mark.parametrize(("raw", "expected"), CONFIGS.values(), ids=list(CONFIGS))
def test_image_configs_read(raw: bytes, expected: ImageConfig) -> None:
    """Docker's, OCI's and Windows' configs read into ImageConfig; they round-trip."""
    config = loads(raw, ImageConfig, "config")
    assert config == expected
    assert config.created is None or config.created.tzinfo is not None
    assert structure(json.loads(dumps(config)), ImageConfig, "config") == config


def test_image_config_written_with_go_names() -> None:
    """Go's JSON names, sets as objects, rootfs always present; the platform property."""
    config = loads(WINDOWS, ImageConfig, "config")
    assert unstructure(config) == {
        "architecture": "amd64",
        "os": "windows",
        "os.version": "10.0.17763.4499",
        "created": "2023-06-06T10:55:09.042345-07:00",
        "config": {"Cmd": ["c:\\windows\\system32\\cmd.exe"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:3333"]},
        "history": [
            {
                "created": "2023-06-06T10:55:09.042345-07:00",
                "created_by": "Apply image 10.0.17763.4499",
            }
        ],
    }
    assert unstructure(
        ContainerConfig(exposed_ports=("80/tcp",), volumes=("/v",), working_dir="/w", entrypoint=())
    ) == {
        "Entrypoint": [],
        "WorkingDir": "/w",
        "ExposedPorts": {"80/tcp": {}},
        "Volumes": {"/v": {}},
    }
    assert unstructure(ImageConfig("amd64", "linux")) == {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []},
    }
    assert config.platform == Platform("amd64", "windows", "10.0.17763.4499")
    assert config.platform.matches("windows(10.0.17763)/amd64")


_BAD_TIME = "invalid value for type, expected datetime.datetime | None @ $.created"
BAD_CONFIGS = {
    "no os": (b'{"architecture": "amd64"}', "required field missing @ $.os"),
    "bad os.version": (
        b'{"architecture": "a", "os": "o", "os.version": 1}',
        "invalid value for type, expected str | None @ $.os.version",
    ),
    "bad diff_ids": (
        b'{"architecture": "a", "os": "o", "rootfs": {"diff_ids": 5}}',
        "invalid value for type, expected tuple @ $.rootfs.diff_ids",
    ),
    "bad history": (
        b'{"architecture": "a", "os": "o", "history": [{"empty_layer": "x"}]}',
        "invalid value for type, expected bool @ $.history[0].empty_layer",
    ),
    "ports not an object": (
        b'{"architecture": "a", "os": "o", "config": {"ExposedPorts": [1]}}',
        "invalid value for type, expected tuple @ $.config.ExposedPorts",
    ),
    "bad time": (b'{"architecture": "a", "os": "o", "created": "yesterday"}', _BAD_TIME),
    "time not a string": (b'{"architecture": "a", "os": "o", "created": 5}', _BAD_TIME),
    "impossible date": (
        b'{"architecture": "a", "os": "o", "created": "2023-13-01T00:00:00Z"}',
        _BAD_TIME,
    ),
}


@pytest.mark.parametrize(("raw", "error"), BAD_CONFIGS.values(), ids=list(BAD_CONFIGS))
def test_bad_configs_are_invalid_response(raw: bytes, error: str) -> None:
    """A config of the wrong shape is InvalidResponse with the JSON path."""
    with pytest.raises(InvalidResponse) as info:
        loads(raw, ImageConfig, "config")
    assert info.value.errors == (error,)


TIMES = {
    "2024-01-02T03:04:05Z": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    "2024-01-02t03:04:05z": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    "2024-01-02T03:04:05.123456789Z": datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    "2024-01-02T03:04:05.1+02:00": datetime.datetime(2024, 1, 2, 1, 4, 5, 100000, tzinfo=UTC),
    "2024-01-02T03:04:05.9999999999Z": datetime.datetime(2024, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    "2024-01-02T03:04:05-07:30": datetime.datetime(2024, 1, 2, 10, 34, 5, tzinfo=UTC),
    "2024-01-02T03:04:05": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),  # no zone: UTC
    "0001-01-01T00:00:00Z": datetime.datetime(1, 1, 1, tzinfo=UTC),  # Go's zero time
}


@pytest.mark.parametrize(("text", "expected"), TIMES.items(), ids=list(TIMES))
def test_go_times(text: str, expected: datetime.datetime) -> None:
    """RFC 3339 with up to nine fractional digits reads timezone-aware."""
    got = parse_time(text)
    assert got == expected
    assert got.tzinfo is not None
    assert parse_time(format_time(got)) == got


FORMATTED = {
    "2024-01-02T03:04:05Z": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    "2024-01-02T03:04:05.1Z": datetime.datetime(2024, 1, 2, 3, 4, 5, 100000, tzinfo=UTC),
    "2024-01-02T03:04:05.000001+02:00": datetime.datetime(
        2024, 1, 2, 3, 4, 5, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    ),
    "2024-01-02T03:04:05.5Z": datetime.datetime(2024, 1, 2, 3, 4, 5, 500000),  # naive: UTC
}


@pytest.mark.parametrize(("expected", "value"), FORMATTED.items(), ids=list(FORMATTED))
def test_times_written_as_go_does(expected: str, value: datetime.datetime) -> None:
    """Go's RFC3339Nano shape: trailing zeros trimmed, Z for UTC, offsets kept."""
    assert format_time(value) == expected


CHILD = {"mediaType": OCI_MANIFEST, "digest": D, "size": 7}
STRICT = {
    "size as string": ({**CHILD, "size": "7"}, "invalid value for type, expected int @ $.size"),
    "size as bool": ({**CHILD, "size": True}, "invalid value for type, expected int @ $.size"),
    "size as float": ({**CHILD, "size": 7.0}, "invalid value for type, expected int @ $.size"),
    "digest as number": ({**CHILD, "digest": 5}, "invalid value for type, expected str @ $.digest"),
    "annotation value as number": (
        {**CHILD, "annotations": {"a": 1}},
        "invalid value for type, expected str @ $.annotations['a']",
    ),
}


@pytest.mark.parametrize(("doc", "error"), STRICT.values(), ids=list(STRICT))
def test_json_types_are_exact(doc: dict[str, Any], error: str) -> None:
    """No coercion: a string is not an int, a number not a string, a bool not an int."""
    with pytest.raises(InvalidResponse) as info:
        structure(doc, Descriptor, "descriptor")
    assert info.value.errors == (error,)


def test_null_reads_as_absent() -> None:
    """A JSON null where a field has a default reads as the default (Docker's habit)."""
    raw = _doc(schemaVersion=2, config=IMAGE["config"], layers=None, annotations=None)
    assert loads(raw, ImageManifest, "m") == ImageManifest(2, CONFIG)
    with pytest.raises(InvalidResponse):
        loads(_doc(schemaVersion=2, config=None), ImageManifest, "m")


def test_docker_config_media_type_constant() -> None:
    """The writing side's constants are the registered media types."""
    assert DOCKER_CONFIG == "application/vnd.docker.container.image.v1+json"
    assert OCI_LAYER == "application/vnd.oci.image.layer.v1.tar"
    assert OCI_CONFIG == "application/vnd.oci.image.config.v1+json"


def test_an_empty_diff_ids_is_still_written() -> None:
    """The OCI image spec requires rootfs.diff_ids even for a config with no layers."""
    raw = dumps(ImageConfig(architecture="amd64", os="linux", rootfs=RootFS("layers", ())))
    assert b'"rootfs":{"type":"layers","diff_ids":[]}' in raw
