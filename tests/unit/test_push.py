"""Units of the blob writer that need no socket: sources, chunking, ranges, locations,
the new error classes, progress events."""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

import pytest
import urllib3

from registry_sdk import _sources, _upload, _write
from registry_sdk.authn import Bearer
from registry_sdk.errors import (
    ConcurrentUpdate,
    InvalidResponse,
    MissingReferences,
    UnsupportedOperation,
    UploadError,
)
from registry_sdk.models import OCI_MANIFEST, Descriptor, ImageManifest, dumps
from registry_sdk.progress import ProgressAction, ProgressEvent
from registry_sdk.transport import Transport


@pytest.mark.parametrize(
    ("value", "held"),
    [
        ("0-0", 1),
        ("bytes=0-1023", 1024),
        ("0-99", 100),
        (None, None),
        ("", None),
        ("garbage", None),
        ("0-", None),
        ("bytes=0-x", None),
    ],
)
def test_parse_range(value: str | None, held: int | None) -> None:
    assert _upload._parse_range(value) == held


def test_rechunk_regroups_into_exact_sizes() -> None:
    pieces = [b"a" * 3, b"b" * 10, b"", b"c" * 2, b"d" * 5]
    chunks = list(_sources._rechunk(iter(pieces), 4))
    assert b"".join(chunks) == b"".join(pieces)
    assert [len(c) for c in chunks] == [4, 4, 4, 4, 4]
    assert [len(c) for c in _sources._rechunk(iter([b"x" * 9]), 4)] == [4, 4, 1]
    assert list(_sources._rechunk(iter([]), 4)) == []


def test_sources(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"hello world")
    expected = ("sha256:" + hashlib.sha256(b"hello world").hexdigest(), 11)
    for source, rereadable in [
        (b"hello world", True),
        (path, True),
        (str(path), True),
        (io.BytesIO(b"hello world"), True),
        (iter([b"hello", b" world"]), False),
    ]:
        src = _sources._Source(source)  # type: ignore[arg-type]
        assert src.rereadable is rereadable
        if rereadable:
            assert src.hash_all("sha256") == expected
        assert b"".join(src.pieces(4)) == b"hello world"
        if rereadable:
            assert b"".join(src.pieces(4)) == b"hello world"
        else:
            with pytest.raises(ValueError, match="twice"):
                list(src.pieces(4))


def test_iterable_of_non_bytes_is_refused() -> None:
    src = _sources._Source(iter(["text"]))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes"):
        list(src.pieces(4))


@pytest.mark.parametrize("threaded", [True, False])
def test_chunks_hash_what_they_hand_over(threaded: bool) -> None:
    data = bytes(range(256)) * 1000
    source: _sources.BlobSource = iter([data]) if threaded else data
    chunks = _sources._Chunks(_sources._Source(source), 1000, "sha256")
    out = []
    while (chunk := chunks.next()) is not None:
        out.append(chunk)
    assert b"".join(out) == data and chunks.size == len(data)
    assert chunks.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    chunks.close()


def test_chunks_hand_over_a_reading_error() -> None:
    def broken() -> object:
        yield b"x" * 10
        raise OSError("disk gone")

    chunks = _sources._Chunks(_sources._Source(broken()), 4, "sha256")  # type: ignore[arg-type]

    def drain() -> None:
        while chunks.next() is not None:
            pass

    with pytest.raises(OSError, match="disk gone"):
        drain()


def test_chunks_close_stops_the_reader() -> None:
    endless = iter(lambda: b"y" * 100, None)
    chunks = _sources._Chunks(_sources._Source(endless), 100, "sha256")
    assert chunks.next() == b"y" * 100
    chunks.close()  # must not hang


def test_resolve_location() -> None:
    t = Transport("127.0.0.1:5000")
    base = "http://127.0.0.1:5000/v2/a/blobs/uploads/"
    assert _upload.resolve_location(t, base, "/v2/a/blobs/uploads/u?_state=s") == (
        "https://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=s"
    )
    assert _upload.resolve_location(t, base, "u2") == (
        "https://127.0.0.1:5000/v2/a/blobs/uploads/u2"
    )
    assert _upload.resolve_location(t, base, "https://storage.example/up?sig=1") == (
        "https://storage.example/up?sig=1"
    )


class RecordingPool:
    """Records what would be sent (no sockets) and answers 202."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    def request(self, method: str, url: str, **kw: object) -> urllib3.HTTPResponse:
        headers = kw.get("headers")
        self.sent.append((url, dict(headers) if isinstance(headers, dict) else {}))
        return urllib3.HTTPResponse(body=io.BytesIO(b""), status=202, preload_content=False)


def test_another_host_never_gets_credentials() -> None:
    """An upload location on another host is sent to with no Authorization (rule 1)."""
    pool = RecordingPool()
    t = Transport("127.0.0.1:5000", Bearer("tok-SECRET"), pool=pool)  # type: ignore[arg-type]
    _upload._request(t, "PATCH", "https://storage.example/up?sig=x", scopes=(), body=b"data")
    assert [url for url, _ in pool.sent] == ["https://storage.example/up?sig=x"]
    assert "Authorization" not in pool.sent[0][1]


def test_with_digest() -> None:
    assert _upload._with_digest("https://r/u?_state=x", "sha256:ab") == (
        "https://r/u?_state=x&digest=sha256%3Aab"
    )
    assert _upload._with_digest("https://r/u", "sha256:ab") == "https://r/u?digest=sha256%3Aab"


@pytest.mark.parametrize(
    "error",
    [
        UploadError("upload failed", repository="r/a", digest="sha256:00"),
        MissingReferences(repository="r/a", missing=("sha256:01", "sha256:02")),
        UnsupportedOperation("no", operation="delete tag", registry="r", use_instead="r/a@x"),
        ConcurrentUpdate("kept changing", reference="r/a:sha256-00"),
    ],
)
def test_new_errors_pickle_with_their_data(error: Exception) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    assert vars(again) == vars(error)


def test_missing_references_message_names_the_digests() -> None:
    error = MissingReferences(repository="r/a", missing=("sha256:01",))
    assert "sha256:01" in str(error) and "r/a" in str(error)


def test_progress_event_action_is_a_str_enum() -> None:
    event = ProgressEvent("sha256:00", 1, 2, "upload")
    assert event.action is ProgressAction.UPLOAD
    assert str(event.action) == "upload"
    assert {a.value for a in ProgressAction} == {"download", "upload", "mount", "skip", "manifest"}


def test_manifest_bytes_without_media_type_are_refused() -> None:
    with pytest.raises(InvalidResponse, match="media type"):
        _write._resolve(
            b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:'
            + b"0" * 64
            + b'","size":1}}',
            None,
        )
    with pytest.raises(InvalidResponse):
        _write._resolve(b"[]", OCI_MANIFEST)


def test_a_model_is_serialised_once_and_round_trips() -> None:
    """A model is put as the models' canonical bytes, which read back as the model."""
    model = ImageManifest(2, Descriptor("c", "sha256:" + "0" * 64, 1), (), OCI_MANIFEST)
    raw, kind, _ = _write._resolve(model, None)
    assert raw == dumps(model) and b" " not in raw
    _, kind, content = _write._resolve(raw, None)
    assert kind == OCI_MANIFEST and content == model


def test_references_skip_foreign_layers() -> None:
    config = Descriptor("c", "sha256:" + "0" * 64, 1)
    foreign = Descriptor(
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "sha256:" + "1" * 64,
        1,
        urls=("https://example/layer",),
    )
    normal = Descriptor("l", "sha256:" + "2" * 64, 1)
    refs = _write._references(ImageManifest(2, config, (foreign, normal, normal)))
    assert refs == [("blobs", config.digest), ("blobs", normal.digest)]


class _Headers:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


@pytest.mark.parametrize(("value", "expected"), [("5242880", 5242880), ("", 0), ("x", 0)])
def test_learn_minimum(value: str, expected: int) -> None:
    up = _upload._Upload(Transport("127.0.0.1:5000"), None, "u", scopes=())  # type: ignore[arg-type]
    up.learn_minimum(_Headers({"OCI-Chunk-Min-Length": value}))  # type: ignore[arg-type]
    assert up.min_chunk == expected


def _stream_bytes(stream: _sources._Stream, offset: int) -> bytes:
    try:
        return b"".join(bytes(piece) for piece in stream.body(offset))
    finally:
        stream.stop()


@pytest.mark.parametrize("kind", ["path", "file", "bytes"])
def test_stream_resumes_from_any_offset_hashing_each_byte_once(tmp_path: Path, kind: str) -> None:
    """A streamed body broken after two pieces starts again below what was read: the
    bytes from that offset are sent, and the digest is still that of the whole."""
    data = bytes(range(256)) * (5 * 4096) + b"tail"  # 5 MiB + 4
    path = tmp_path / "blob"
    path.write_bytes(data)
    source: _sources.BlobSource = path if kind == "path" else data
    if kind == "file":
        source = io.BytesIO(b"xx" + data)
        source.seek(2)  # a file is sent from where it stands
    stream = _sources._Stream(
        _sources._Source(source), len(data), "sha256", hashing=kind != "bytes"
    )
    body = stream.body(0)
    first = bytes(next(body)) + bytes(next(body))
    stream.stop()
    assert first == data[: len(first)]
    held = len(first) - 12345
    assert _stream_bytes(stream, held) == data[held:]
    assert stream.read_size == len(data)
    if kind != "bytes":
        assert stream.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert _stream_bytes(stream, len(data) - 3) == data[-3:]


def test_stream_of_a_source_shorter_or_longer_than_announced(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"x" * (3 * _sources.PIECE_SIZE + 7))
    size = path.stat().st_size
    short = _sources._Stream(_sources._Source(path), size + 10, "sha256", hashing=True)
    with pytest.raises(_sources._SourceFailed) as info:
        _stream_bytes(short, 0)
    assert info.value.error is None and short.read_size == size
    long = _sources._Stream(_sources._Source(path), size - 10, "sha256", hashing=True)
    assert len(_stream_bytes(long, 0)) == size - 10
    assert long.read_size == size - 9  # "more than announced"
