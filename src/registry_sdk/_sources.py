"""Blob sources for uploads: bytes, paths, files and iterables, read once, in pieces.

A source says whether it can be read again (bytes, a path, a seekable file) and from
where; chunks of bounded size are cut from it and hashed as they are read; a streamed
PATCH reads into a few reused buffers on a second thread, hashing ahead of the sender
(hashlib releases the GIL on large buffers). Memory stays flat whatever the size.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import IO, TYPE_CHECKING, Union

if TYPE_CHECKING:
    pass

__all__ = ["BlobSource", "CHUNK_SIZE", "MAX_CHUNK_SIZE", "PIECES_AHEAD", "PIECE_SIZE"]

log = logging.getLogger("registry_sdk.push")

#: What `push_blob` accepts: bytes, a path, a binary file, or an iterable of bytes.
BlobSource = Union[bytes, str, "os.PathLike[str]", IO[bytes], Iterable[bytes]]

#: Size of one PATCH chunk (and the largest blob sent in the closing PUT alone).
CHUNK_SIZE = 8 * 1024 * 1024
#: One read (and one hashing step) of a streamed PATCH, and how many are read ahead.
PIECE_SIZE = 2 * 1024 * 1024
PIECES_AHEAD = 2
#: Largest chunk a registry may demand through OCI-Chunk-Min-Length (memory bound).
MAX_CHUNK_SIZE = 256 * 1024 * 1024


# ------------------------------------------------------------------------- sources


class _Source:
    """A blob source: where its bytes come from and whether they can be read again."""

    def __init__(self, source: BlobSource) -> None:
        self.data: bytes | None = None
        self.path: str | None = None
        self.file: IO[bytes] | None = None
        self.start = 0
        self.iterable: Iterable[bytes] | None = None
        self._used = False
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.data = bytes(source)
        elif isinstance(source, (str, os.PathLike)):
            self.path = os.fspath(source)
        elif hasattr(source, "read"):
            file: IO[bytes] = source  # type: ignore[assignment]
            self.file = file
            try:
                self.start = file.tell() if file.seekable() else -1
            except (OSError, ValueError, AttributeError):
                self.start = -1
        else:
            self.iterable = source

    @property
    def rereadable(self) -> bool:
        """Whether the bytes can be read from the start again (bytes, path, seekable)."""
        return (
            self.data is not None
            or self.path is not None
            or (self.file is not None and self.start >= 0)
        )

    def describe(self) -> str:
        return self.path or (
            "bytes" if self.data is not None else "file" if self.file is not None else "iterable"
        )

    def pieces(self, size: int) -> Iterator[bytes]:
        """The bytes from the start, in pieces of at most about *size*."""
        if self.data is not None:
            for i in range(0, len(self.data), size):
                yield self.data[i : i + size]
        elif self.path is not None:
            with open(self.path, "rb") as f:
                while piece := f.read(size):
                    yield piece
        elif self.file is not None:
            if self.start >= 0:
                self.file.seek(self.start)
            elif self._used:
                raise ValueError("a one-shot file cannot be read twice")
            self._used = True
            while piece := self.file.read(size):
                yield piece
        else:
            if self._used:
                raise ValueError("a one-shot iterable cannot be read twice")
            self._used = True
            assert self.iterable is not None
            for piece in self.iterable:
                if not isinstance(piece, (bytes, bytearray, memoryview)):
                    raise TypeError(f"a blob iterable must yield bytes, not {type(piece).__name__}")
                yield bytes(piece)

    def open_at(self, offset: int) -> AbstractContextManager[IO[bytes]]:
        """A binary file *offset* bytes into a re-readable source, for a `with`.

        The `with` closes a file opened here and leaves the caller's own file open.
        """
        if self.data is not None:
            data = io.BytesIO(self.data)  # shares the bytes (no copy while only read)
            data.seek(offset)
            return data
        if self.path is not None:
            f = open(self.path, "rb")  # noqa: SIM115 (closed by the caller)
            f.seek(offset)
            return f
        assert self.file is not None
        assert self.start >= 0
        self.file.seek(self.start + offset)
        return nullcontext(self.file)

    def length(self) -> int | None:
        """The size in bytes when the source can tell it without reading."""
        if self.data is not None:
            return len(self.data)
        if self.path is not None:
            return os.path.getsize(self.path)
        if self.file is not None and self.start >= 0:
            end = self.file.seek(0, os.SEEK_END)
            self.file.seek(self.start)
            return end - self.start
        return None

    def hash_all(self, algorithm: str) -> tuple[str, int]:
        """Digest and size of the whole re-readable source (one read)."""
        h = hashlib.new(algorithm)
        size = 0
        if self.data is not None:
            h.update(self.data)
            return f"{algorithm}:{h.hexdigest()}", len(self.data)
        buffer = memoryview(bytearray(PIECE_SIZE))  # one buffer, read into again and again
        with self.open_at(0) as f:
            while got := _read_into(f, buffer):
                h.update(buffer[:got])
                size += got
        return f"{algorithm}:{h.hexdigest()}", size


def _rechunk(pieces: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Pieces regrouped into chunks of exactly *size* bytes (the last may be shorter).

    Pieces are joined once per chunk (no growing buffer copied again and again), so at
    most about two chunks are held here while one is assembled.
    """
    parts: list[bytes] = []
    have = 0
    for piece in pieces:
        if not piece:
            continue
        parts.append(piece)
        have += len(piece)
        if have < size:
            continue
        joined = parts[0] if len(parts) == 1 else b"".join(parts)
        parts.clear()
        view = memoryview(joined)
        start = 0
        while have - start >= size:
            yield (
                joined
                if (start == 0 and len(joined) == size)
                else bytes(view[start : start + size])
            )
            start += size
        if start < have:
            parts.append(bytes(view[start:]))
        have -= start
        del view, joined
    if parts:
        yield b"".join(parts)


_END = object()


class _Chunks:
    """Chunks of the source, read and hashed one step ahead on a second thread.

    One chunk waits in the queue and one is being read, so memory stays flat whatever the size.
    """

    def __init__(
        self, source: _Source, size: int, algorithm: str, *, known: str | None = None
    ) -> None:
        # Bytes in memory were hashed already and cannot change: no second hashing.
        threaded = source.data is None
        self._known = known if source.data is not None else None
        self._hash = hashlib.new(algorithm)
        self._algorithm = algorithm
        self._iter = _rechunk(source.pieces(size), size)
        self._stop = threading.Event()
        self._queue: queue.Queue[object] | None = None
        self.size = 0
        self.finished = False
        if threaded:
            self._queue = queue.Queue(maxsize=1)
            threading.Thread(target=self._produce, daemon=True, name="registry-sdk-hash").start()

    def _produce(self) -> None:
        assert self._queue is not None
        item: object
        try:
            for chunk in self._iter:
                self._hash.update(chunk)
                if not self._put(chunk):
                    return
            item = _END
        except BaseException as exc:  # noqa: BLE001 (handed to the consuming thread)
            item = exc
        self._put(item)

    def _put(self, item: object) -> bool:
        assert self._queue is not None
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def next(self) -> bytes | None:
        """The next chunk, or None at the end."""
        if self.finished:
            return None
        if self._queue is None:
            chunk = next(self._iter, None)
            if chunk is not None and self._known is None:
                self._hash.update(chunk)
        else:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self.finished = True
                raise item
            chunk = None if item is _END else item  # type: ignore[assignment]
        if chunk is None:
            self.finished = True
            return None
        self.size += len(chunk)
        return chunk

    @property
    def digest(self) -> str:
        """The digest of everything read (complete once `next()` returned None)."""
        return self._known or f"{self._algorithm}:{self._hash.hexdigest()}"

    def close(self) -> None:
        """Stop the reading thread (if it is waiting to hand over a chunk)."""
        self._stop.set()
        if self._queue is not None:
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break


class _SourceFailed(Exception):
    """Reading the source failed inside a streamed request body.

    Carried past urllib3 (which would take an OSError for a broken connection); `error`
    is None when the source simply ended before its announced size.
    """

    def __init__(self, error: BaseException | None) -> None:
        super().__init__(str(error or "the source ended early"))
        self.error = error


class _Stream:
    """A re-readable source of known size, sent from any offset as one streamed body.

    A second thread reads it into PIECES_AHEAD + 2 reused buffers of PIECE_SIZE and hashes
    every byte once, in order, the first time it is read, while the previous piece is
    sent (hashlib and the socket both release the GIL). After a break the body starts
    again from the session's offset: bytes already hashed are read, not hashed again.
    Memory: those buffers, whatever the size.

    A piece handed to the request is a view of a buffer that is filled again only after
    the request asked for the piece after next (the producer is at most PIECES_AHEAD
    pieces ahead, plus the one it fills).
    """

    def __init__(
        self,
        src: _Source,
        total: int,
        algorithm: str,
        *,
        hashing: bool,
        report: Callable[[int], None] | None = None,
    ) -> None:
        self.src, self.total = src, total
        self._hash = hashlib.new(algorithm) if hashing else None
        self._algorithm = algorithm
        self.hashed = 0
        #: bytes the source held when read to its end (total + 1 for "more than total")
        self.read_size: int | None = None
        self._buffers = [bytearray(min(PIECE_SIZE, max(total, 1))) for _ in range(PIECES_AHEAD + 2)]
        self._report = report
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=PIECES_AHEAD)

    @property
    def digest(self) -> str | None:
        """The digest of the whole source once read to the end (None when not hashing)."""
        if self._hash is None:
            return None
        return f"{self._algorithm}:{self._hash.hexdigest()}"

    def body(self, offset: int) -> Iterator[memoryview]:
        """The bytes from *offset* to the announced size, read and hashed ahead."""
        self.stop()
        self._stop = threading.Event()
        self._queue = queue.Queue(maxsize=PIECES_AHEAD)
        self._thread = threading.Thread(
            target=self._produce,
            args=(offset, self._stop, self._queue),
            daemon=True,
            name="registry-sdk-hash",
        )
        self._thread.start()
        return self._consume(offset, self._queue)

    def _produce(self, offset: int, stop: threading.Event, q: queue.Queue[object]) -> None:
        item: object = _END
        pos = min(offset, self.hashed) if self._hash is not None else offset
        try:
            with self.src.open_at(pos) as f:
                index = 0
                while pos < self.total:
                    buffer = self._buffers[index % len(self._buffers)]
                    index += 1
                    view = memoryview(buffer)[: min(len(buffer), self.total - pos)]
                    got = _read_into(f, view)
                    piece = view[:got]
                    if self._hash is not None and pos + got > self.hashed:
                        self._hash.update(piece[self.hashed - pos :])
                        self.hashed = pos + got
                    if pos + got > offset and not _put(stop, q, piece[max(0, offset - pos) :]):
                        return
                    pos += got
                    if got < len(view):  # shorter than announced
                        self.read_size = pos
                        raise _SourceFailed(None)
                self.read_size = self.total + (1 if f.read(1) else 0)
        except _SourceFailed as failed:
            item = failed
        except BaseException as exc:  # noqa: BLE001 (handed to the sending thread)
            item = _SourceFailed(exc)
        _put(stop, q, item)

    def _consume(self, offset: int, q: queue.Queue[object]) -> Iterator[memoryview]:
        sent = reported = offset
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, memoryview)
            yield item
            sent += len(item)
            if self._report is not None and sent - reported >= CHUNK_SIZE:
                reported = sent
                self._report(sent)

    def stop(self) -> None:
        """Stop the reading thread and wait for it (one reader at a time)."""
        self._stop.set()
        thread = self._thread
        while thread is not None and thread.is_alive():
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            thread.join(0.05)
        self._thread = None


def _read_into(f: IO[bytes], view: memoryview) -> int:
    """Fill *view* from *f* (short only at the end of the file); the bytes read."""
    got = 0
    readinto = getattr(f, "readinto", None)
    while got < len(view):
        if readinto is not None:
            n = readinto(view[got:])
        else:
            data = f.read(len(view) - got)
            view[got : got + len(data)] = data
            n = len(data)
        if not n:
            break
        got += n
    return got


def _put(stop: threading.Event, q: queue.Queue[object], item: object) -> bool:
    """Hand *item* over unless asked to stop; whether it was handed over."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
        except queue.Full:
            continue
        return True
    return False
