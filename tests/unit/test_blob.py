"""BlobReader: verification as it reads, and the hashing thread of large blobs."""

from __future__ import annotations

import gc
import hashlib
import io
import threading

import pytest
from urllib3.exceptions import ProtocolError

from registry_sdk import _blob
from registry_sdk._blob import CHUNK, THREAD_MIN, BlobReader
from registry_sdk._errors import DigestMismatch, InvalidResponse, TransportError

LARGE = bytes(range(256)) * (THREAD_MIN // 256 * 2 + 1000)  # 16 MiB and a bit
SMALL = b"a small blob" * 1000


class FakeResponse:
    """Enough of a urllib3 response for BlobReader, breaking after *fail_after* bytes."""

    def __init__(
        self, data: bytes, *, length: int | None = -1, fail_after: int | None = None
    ) -> None:
        self._body = io.BytesIO(data)
        size = len(data) if length == -1 else length
        self.headers = {} if size is None else {"Content-Length": str(size)}
        self.fail_after = fail_after
        self.closed = self.drained = self.released = False

    def read(self, amt: int) -> bytes:
        if self.fail_after is not None and self._body.tell() >= self.fail_after:
            raise ProtocolError("Connection broken: http://registry/v2/x/blobs/y?sig=SECRET")
        return self._body.read(amt)

    def close(self) -> None:
        self.closed = True

    def drain_conn(self) -> None:
        self.drained = True

    def release_conn(self) -> None:
        self.released = True


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hash_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "registry-sdk blob hash"]


@pytest.fixture(autouse=True)
def _hash_on_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests exercise the threaded hashing (off by default: see _blob)."""
    monkeypatch.setattr(_blob, "HASH_ON_THREAD", True)


@pytest.fixture(autouse=True)
def _no_thread_left() -> object:
    assert _hash_threads() == []
    yield
    gc.collect()
    for t in _hash_threads():
        t.join(5)
    assert _hash_threads() == [], "a hashing thread outlived its reader"


@pytest.mark.parametrize("data", [SMALL, LARGE, b""])
@pytest.mark.parametrize("length", [-1, None])
def test_verifies_small_and_large_with_or_without_content_length(
    data: bytes, length: int | None
) -> None:
    reader = BlobReader(FakeResponse(data, length=length), _digest(data), name="r@x")  # type: ignore[arg-type]
    assert b"".join(reader) == data
    assert reader.read_bytes == len(data)
    assert reader.read() == b""
    assert _hash_threads() == []  # joined at the end, before verification
    reader.close()


def test_small_blob_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def record(self: threading.Thread) -> None:
        started.append(self)
        start(self)

    monkeypatch.setattr(threading.Thread, "start", record)
    reader = BlobReader(FakeResponse(SMALL), _digest(SMALL))  # type: ignore[arg-type]
    assert b"".join(reader) == SMALL
    reader.close()
    assert started == []


def test_large_blob_is_hashed_on_a_second_thread() -> None:
    reader = BlobReader(FakeResponse(LARGE), _digest(LARGE))  # type: ignore[arg-type]
    assert reader.read() == LARGE[:CHUNK]
    assert len(_hash_threads()) == 1
    assert b"".join(reader) == LARGE[CHUNK:]
    assert _hash_threads() == []
    reader.close()


def test_small_reads_of_a_large_blob_are_batched_in_order() -> None:
    reader = BlobReader(FakeResponse(LARGE), _digest(LARGE))  # type: ignore[arg-type]
    parts = []
    while piece := reader.read(3001):
        parts.append(piece)
    assert b"".join(parts) == LARGE
    reader.close()


@pytest.mark.parametrize("data", [SMALL, LARGE])
def test_mismatch_names_the_blob_at_the_end(data: bytes) -> None:
    wrong = _digest(b"something else")
    reader = BlobReader(FakeResponse(data), wrong, name="reg/repo@" + wrong)  # type: ignore[arg-type]
    with pytest.raises(DigestMismatch) as info:
        for _ in reader:
            pass
    assert info.value.expected == wrong
    assert info.value.actual == _digest(data)
    assert "reg/repo@" in str(info.value)
    reader.close()


@pytest.mark.parametrize("data", [SMALL, LARGE])
def test_short_body_is_invalid(data: bytes) -> None:
    reader = BlobReader(FakeResponse(data, length=len(data) + 1), _digest(data), name="b")  # type: ignore[arg-type]
    with pytest.raises(InvalidResponse, match=f"blob b ended after {len(data)} of"):
        b"".join(reader)
    reader.close()


@pytest.mark.parametrize("data", [SMALL, LARGE])
def test_long_body_is_invalid(data: bytes) -> None:
    reader = BlobReader(FakeResponse(data, length=len(data) - 1), _digest(data), name="b")  # type: ignore[arg-type]
    with pytest.raises(InvalidResponse, match="blob b is longer than its Content-Length"):
        b"".join(reader)
    reader.close()


@pytest.mark.parametrize("data", [SMALL, LARGE])
def test_broken_connection_chains_no_urllib3_error(data: bytes) -> None:
    resp = FakeResponse(data, fail_after=len(data) // 2 // CHUNK * CHUNK or 4096)
    reader = BlobReader(resp, _digest(data), name="b")  # type: ignore[arg-type]
    with pytest.raises(TransportError) as info:
        b"".join(reader)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert "SECRET" not in str(info.value)
    assert "connection broken after" in str(info.value)
    assert resp.closed
    reader.close()
    assert resp.released


def test_close_when_the_caller_stops_early_releases_thread_and_connection() -> None:
    resp = FakeResponse(LARGE)
    reader = BlobReader(resp, _digest(LARGE))  # type: ignore[arg-type]
    for _ in range(3):
        reader.read()
    assert len(_hash_threads()) == 1
    reader.close()
    assert _hash_threads() == []
    assert resp.drained and resp.released
    reader.close()  # twice is harmless


def test_a_reader_dropped_without_close_leaves_no_thread() -> None:
    reader = BlobReader(FakeResponse(LARGE), _digest(LARGE))  # type: ignore[arg-type]
    for _ in range(9):
        reader.read()
    assert len(_hash_threads()) == 1
    del reader
    gc.collect()
    assert _hash_threads() == []


def test_reading_on_after_close_still_verifies() -> None:
    reader = BlobReader(FakeResponse(LARGE), _digest(LARGE))  # type: ignore[arg-type]
    first = reader.read() + reader.read()
    reader.close()
    assert first + b"".join(reader) == LARGE  # hashed inline from here, still in order
